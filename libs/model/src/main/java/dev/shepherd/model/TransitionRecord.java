package dev.shepherd.model;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.time.Instant;

/**
 * One line of a job's history: a state change, what caused it and, for failures, why. Lines of what
 * an attempt did (claim, outcome, lease expiry) carry that attempt's fencing token and worker; an
 * outcome line carries those of the status event that reported it.
 *
 * @param fencingToken the token of the attempt the line is about (for an outcome, the reporter's)
 * @param workerId the worker of that attempt (for an outcome, the reporter)
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record TransitionRecord(
    Instant at,
    JobState from,
    JobState to,
    JobEvent event,
    int attempt,
    String reason,
    Long fencingToken,
    String workerId) {}
