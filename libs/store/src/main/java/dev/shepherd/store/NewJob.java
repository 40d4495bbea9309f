package dev.shepherd.store;

import dev.shepherd.model.JobTimeouts;
import java.time.Instant;

/**
 * A validated submission, ready to be stored.
 *
 * @param payloadJson the payload as JSON text, stored as received
 * @param idempotencyKey null when the producer gave none
 * @param notBefore null to dispatch at once
 * @param traceparent the W3C trace context of the submission, carried on every message of the job
 * @param timeouts each attempt's startToClose and stall timeouts, stored on the job ({@link
 *     JobTimeouts#NONE} for none)
 */
public record NewJob(
    String type,
    String pool,
    String payloadJson,
    String idempotencyKey,
    Instant notBefore,
    int maxAttempts,
    String traceparent,
    JobTimeouts timeouts) {

  public NewJob {
    timeouts = timeouts == null ? JobTimeouts.NONE : timeouts;
  }

  public NewJob(
      String type,
      String pool,
      String payloadJson,
      String idempotencyKey,
      Instant notBefore,
      int maxAttempts,
      String traceparent) {
    this(type, pool, payloadJson, idempotencyKey, notBefore, maxAttempts, traceparent, null);
  }

  public NewJob(
      String type,
      String pool,
      String payloadJson,
      String idempotencyKey,
      Instant notBefore,
      int maxAttempts) {
    this(type, pool, payloadJson, idempotencyKey, notBefore, maxAttempts, null);
  }
}
