package dev.shepherd.model;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.time.Instant;

/**
 * One ordering key, as {@code GET /api/v1/keys/{key}} shows it (ADR 29).
 *
 * @param state {@code UP}, or {@code DOWN} from its head's retryable failure until a job of the key
 *     succeeds
 * @param downSince when the key went DOWN; null while UP
 * @param blocked its head ended DEAD under the {@code block} policy: the key waits for an operator
 *     to redrive or discard it
 * @param backlog the key's unfinished jobs, the head included
 * @param head the job that runs or runs next; null when the key has no unfinished job
 * @param headState the head's state
 * @param headAttempt the head's attempt number
 * @param nextAttemptAt when a head waiting to be retried is published again; null otherwise
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record OrderingKeyView(
    String key,
    String state,
    Instant downSince,
    boolean blocked,
    long backlog,
    String head,
    JobState headState,
    Integer headAttempt,
    Instant nextAttemptAt) {}
