package dev.shepherd.store;

import java.time.Instant;

/**
 * A validated submission, ready to be stored.
 *
 * @param payloadJson the payload as JSON text, stored as received
 * @param idempotencyKey null when the producer gave none
 * @param notBefore null to dispatch at once
 */
public record NewJob(
    String type,
    String pool,
    String payloadJson,
    String idempotencyKey,
    Instant notBefore,
    int maxAttempts) {}
