package dev.shepherd.store;

import java.time.Instant;

/** An outbox entry reserved for publishing: one attempt of one job. */
public record DueEntry(
    String jobId,
    String type,
    String pool,
    int attempt,
    String payloadJson,
    Instant submittedAt,
    String traceparent) {}
