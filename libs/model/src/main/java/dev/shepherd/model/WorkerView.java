package dev.shepherd.model;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.time.Instant;

/**
 * One worker as the registry knows it, as {@code GET /api/v1/workers} shows it.
 *
 * @param state {@code active}, {@code draining} (stopping, finishing what it holds) or {@code lost}
 *     (no heartbeat for too long; its leases were released)
 * @param leases leases it holds now
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record WorkerView(
    String id,
    String host,
    String podName,
    String pool,
    int capacity,
    String version,
    String state,
    Instant startedAt,
    Instant lastHeartbeat,
    Integer leases) {

  public static final String ACTIVE = "active";
  public static final String DRAINING = "draining";
  public static final String LOST = "lost";

  public WorkerView withState(String newState) {
    return new WorkerView(
        id, host, podName, pool, capacity, version, newState, startedAt, lastHeartbeat, leases);
  }

  public WorkerView withLeases(Integer held) {
    return new WorkerView(
        id, host, podName, pool, capacity, version, state, startedAt, lastHeartbeat, held);
  }
}
