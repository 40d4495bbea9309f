package dev.shepherd.model;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.time.Instant;
import java.util.List;

/**
 * One worker as the registry knows it, as {@code GET /api/v1/workers} shows it.
 *
 * @param state {@code active}, {@code draining} (stopping, finishing what it holds) or {@code lost}
 *     (no heartbeat for too long; its leases were released)
 * @param leases leases it holds now
 * @param types the job types it has handlers for (announced with their payload schemas, ADR 35);
 *     null from a worker older than announcements
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
    Integer leases,
    List<String> types) {

  public static final String ACTIVE = "active";
  public static final String DRAINING = "draining";
  public static final String LOST = "lost";

  public WorkerView {
    types = types == null ? null : List.copyOf(types);
  }

  /** A worker that names no job types. */
  public WorkerView(
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
    this(id, host, podName, pool, capacity, version, state, startedAt, lastHeartbeat, leases, null);
  }

  public WorkerView withState(String newState) {
    return new WorkerView(
        id,
        host,
        podName,
        pool,
        capacity,
        version,
        newState,
        startedAt,
        lastHeartbeat,
        leases,
        types);
  }

  public WorkerView withLeases(Integer held) {
    return new WorkerView(
        id, host, podName, pool, capacity, version, state, startedAt, lastHeartbeat, held, types);
  }
}
