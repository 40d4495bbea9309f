package dev.shepherd.model;

import java.util.List;
import tools.jackson.databind.ObjectWriter;

/**
 * The body of an AMQP submission: one {@link JobSubmission} as a JSON object, or several as a JSON
 * array (ADR 59). A producer that has several submissions waiting while its previous message waits
 * for the broker's confirm sends them as one message, as a worker does with its status events (ADR
 * 36). The scheduler judges each element on its own and acks the message once every element is
 * stored or recorded as a dead job. Should storing part of an array fail, the whole message is
 * taken again, so every element of an array must carry an idempotency key; the trace context of
 * each element may travel in the {@link StatusMessages#TRACEPARENTS_HEADER} header, comma-separated
 * in the array's order.
 */
public final class SubmissionMessages {

  /** The most submissions one message may carry; a longer array is refused whole. */
  public static final int MAX_SUBMISSIONS = 100;

  private static final ObjectWriter ONE = Json.mapper().writerFor(JobSubmission.class);
  private static final ObjectWriter MANY =
      Json.mapper()
          .writerFor(
              Json.mapper()
                  .getTypeFactory()
                  .constructCollectionType(List.class, JobSubmission.class));

  private SubmissionMessages() {}

  /**
   * One submission as an object (the body every scheduler reads), more as an array.
   *
   * @throws IllegalArgumentException when there is none, more than {@link #MAX_SUBMISSIONS}, or one
   *     of several has no idempotency key
   */
  public static byte[] encode(List<JobSubmission> submissions) {
    if (submissions.isEmpty() || submissions.size() > MAX_SUBMISSIONS) {
      throw new IllegalArgumentException(
          "a submission message carries 1 to "
              + MAX_SUBMISSIONS
              + " submissions, not "
              + submissions.size());
    }
    if (submissions.size() == 1) {
      return ONE.writeValueAsBytes(submissions.getFirst());
    }
    for (JobSubmission s : submissions) {
      if (s.idempotencyKey() == null || s.idempotencyKey().isBlank()) {
        throw new IllegalArgumentException(
            "each submission of an array needs an idempotency key: the scheduler takes a message"
                + " again whole when storing part of it fails");
      }
    }
    return MANY.writeValueAsBytes(submissions);
  }
}
