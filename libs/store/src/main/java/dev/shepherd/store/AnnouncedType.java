package dev.shepherd.store;

import com.fasterxml.jackson.annotation.JsonInclude;
import dev.shepherd.model.JobTimeouts;
import java.time.Instant;
import tools.jackson.databind.JsonNode;

/**
 * A job type as a worker announced it at start and on each heartbeat (ADR 35): the pool that runs
 * it, its payload's JSON Schema and its defaults.
 *
 * @param type the job type
 * @param pool the pool of the worker that announced it; its queue is bound to the type
 * @param payloadSchema the payload's JSON Schema (draft 2020-12); null when the handler gives none
 * @param maxAttempts attempts when a submission names none; null for the scheduler's default
 * @param timeouts the type's attempt timeouts; null for none
 * @param workerId the worker that announced it last
 * @param announcedAt when it did
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record AnnouncedType(
    String type,
    String pool,
    JsonNode payloadSchema,
    Integer maxAttempts,
    JobTimeouts timeouts,
    String workerId,
    Instant announcedAt) {

  /** The same announcement, made by {@code worker} at {@code at}. */
  public AnnouncedType by(String worker, Instant at) {
    return new AnnouncedType(type, pool, payloadSchema, maxAttempts, timeouts, worker, at);
  }
}
