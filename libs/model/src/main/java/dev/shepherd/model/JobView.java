package dev.shepherd.model;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.time.Instant;
import java.util.List;
import tools.jackson.databind.JsonNode;

/**
 * Everything known about one job, as {@code GET /api/v1/jobs/{id}} shows it. {@code cancelledBy}
 * and {@code cancelledAt} are set on a CANCELLED job only; {@code transactionId} on a job that ran,
 * or is about to run, in a transaction of a type that takes batches (ADR 31); {@code tenant} on a
 * job submitted by a caller of a tenant (ADR 40); {@code tasks}, one per attempt, on a job whose
 * type runs on a distributor (ADR 45): where each attempt ran and where to look at it.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record JobView(
    String id,
    String type,
    String pool,
    JobState state,
    int attempt,
    int maxAttempts,
    JsonNode payload,
    String idempotencyKey,
    String orderingKey,
    String concurrencyKey,
    Long transactionId,
    Instant submittedAt,
    Instant notBefore,
    Instant finishedAt,
    String workerId,
    Integer progressPercent,
    String progressMessage,
    String lastError,
    String cancelledBy,
    Instant cancelledAt,
    String traceId,
    List<PhaseView> phases,
    List<TransitionRecord> history,
    String tenant,
    List<AttemptTask> tasks) {}
