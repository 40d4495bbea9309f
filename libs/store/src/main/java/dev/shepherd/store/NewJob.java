package dev.shepherd.store;

import java.time.Instant;

/**
 * A validated submission, ready to be stored.
 *
 * @param payloadJson the payload as JSON text, stored as received
 * @param idempotencyKey null when the producer gave none
 * @param notBefore null to dispatch at once
 * @param traceparent the W3C trace context of the submission, carried on every message of the job
 */
public record NewJob(
    String type,
    String pool,
    String payloadJson,
    String idempotencyKey,
    Instant notBefore,
    int maxAttempts,
    String traceparent) {

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
