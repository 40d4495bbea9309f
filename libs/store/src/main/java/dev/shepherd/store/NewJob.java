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
 * @param orderingKey null for none; jobs of one key run one at a time, in the order they were
 *     submitted (ADR 29)
 */
public record NewJob(
    String type,
    String pool,
    String payloadJson,
    String idempotencyKey,
    Instant notBefore,
    int maxAttempts,
    String traceparent,
    JobTimeouts timeouts,
    String orderingKey) {

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
      String traceparent,
      JobTimeouts timeouts) {
    this(
        type,
        pool,
        payloadJson,
        idempotencyKey,
        notBefore,
        maxAttempts,
        traceparent,
        timeouts,
        null);
  }

  /** This job with {@code orderingKey} (null for none). */
  public NewJob withOrderingKey(String orderingKey) {
    return new NewJob(
        type,
        pool,
        payloadJson,
        idempotencyKey,
        notBefore,
        maxAttempts,
        traceparent,
        timeouts,
        orderingKey);
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
