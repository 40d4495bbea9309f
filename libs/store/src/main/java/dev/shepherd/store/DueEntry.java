package dev.shepherd.store;

import dev.shepherd.model.TraceParent;
import java.time.Instant;

/**
 * An outbox entry reserved for publishing: one attempt of one job.
 *
 * @param submitter who submitted the job, JSON {@code {"name", "groups"}}, or null: the dispatcher
 *     checks that the grant still holds before it hands the job out (ADR 40)
 */
public record DueEntry(
    String jobId,
    String type,
    String pool,
    int attempt,
    String payloadJson,
    Instant submittedAt,
    String traceparent,
    String submitter) {

  /**
   * @param traceparent the trace stored with the job, or null: the entry continues the job's own
   *     ({@link TraceParent#ofStored}, ADR 54)
   */
  public DueEntry {
    traceparent = TraceParent.ofStored(traceparent, jobId);
  }

  /** An entry of a job no known caller submitted. */
  public DueEntry(
      String jobId,
      String type,
      String pool,
      int attempt,
      String payloadJson,
      Instant submittedAt,
      String traceparent) {
    this(jobId, type, pool, attempt, payloadJson, submittedAt, traceparent, null);
  }
}
