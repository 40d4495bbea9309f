package dev.shepherd.distribution;

/**
 * What a distributor knows about a task it started. {@link Missing} is its own answer, not a
 * failure to answer: a task the backend no longer knows (a deleted Kubernetes Job, a service that
 * lost its state) is recorded as missing with the reason, and the attempt ends through the usual
 * fenced path instead of waiting for a timeout as if it hung.
 */
public sealed interface TaskStatus {

  /** Accepted by the backend, not started yet (an unscheduled pod, a queued request). */
  record Pending() implements TaskStatus {}

  record Running() implements TaskStatus {}

  record Succeeded() implements TaskStatus {}

  /**
   * @param retryable true when another attempt may succeed (the job retries while attempts remain)
   */
  record Failed(String reason, boolean retryable) implements TaskStatus {}

  /** The backend does not know the task (any more). */
  record Missing(String reason) implements TaskStatus {}
}
