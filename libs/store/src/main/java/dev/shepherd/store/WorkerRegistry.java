package dev.shepherd.store;

import dev.shepherd.model.Json;
import dev.shepherd.model.WorkerView;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.springframework.data.redis.core.StringRedisTemplate;

/**
 * Which workers exist, where they run and when they last spoke. Workers write their own entry on
 * every heartbeat; a worker whose heartbeat is older than {@code lostAfter} counts as lost. One
 * hash per installation ({@code <prefix>:workers}): a registry entry is not a job state change, so
 * it needs no script.
 */
public final class WorkerRegistry {

  private final StringRedisTemplate redis;
  private final String key;
  private final Clock clock;
  private final Duration lostAfter;
  private final JobTypeRegistry jobTypes;

  public WorkerRegistry(
      StringRedisTemplate redis, StoreSettings settings, Clock clock, Duration lostAfter) {
    this.redis = redis;
    this.key = new Keys(settings).workers();
    this.clock = clock;
    this.lostAfter = lostAfter;
    this.jobTypes = new JobTypeRegistry(redis, settings, clock);
  }

  /** The job types workers announce with their heartbeats (ADR 35). */
  public JobTypeRegistry jobTypes() {
    return jobTypes;
  }

  /** Writes the worker's entry with {@code lastHeartbeat = now}. */
  public void heartbeat(WorkerView worker) {
    var beat =
        new WorkerView(
            worker.id(),
            worker.host(),
            worker.podName(),
            worker.pool(),
            worker.capacity(),
            worker.version(),
            worker.state(),
            worker.startedAt(),
            clock.instant(),
            null,
            worker.types());
    redis.opsForHash().put(key, worker.id(), Json.mapper().writeValueAsString(beat));
  }

  /** Removes a worker that stopped cleanly (it released or finished everything it held). */
  public void remove(String workerId) {
    redis.opsForHash().delete(key, workerId);
  }

  /** Every registered worker, with {@code lost} for those whose heartbeat is too old. */
  public List<WorkerView> list() {
    List<WorkerView> workers = new ArrayList<>();
    for (Map.Entry<Object, Object> e : redis.opsForHash().entries(key).entrySet()) {
      workers.add(withLiveness(Json.mapper().readValue((String) e.getValue(), WorkerView.class)));
    }
    workers.sort(Comparator.comparing(WorkerView::id));
    return workers;
  }

  /** Workers whose heartbeat stopped and that were not yet declared lost. */
  public List<WorkerView> newlySilent() {
    List<WorkerView> silent = new ArrayList<>();
    for (Object json : redis.opsForHash().values(key)) {
      WorkerView stored = Json.mapper().readValue((String) json, WorkerView.class);
      if (!WorkerView.LOST.equals(stored.state())
          && WorkerView.LOST.equals(withLiveness(stored).state())) {
        silent.add(stored);
      }
    }
    return silent;
  }

  public Optional<WorkerView> find(String workerId) {
    Object json = redis.opsForHash().get(key, workerId);
    return json == null
        ? Optional.empty()
        : Optional.of(withLiveness(Json.mapper().readValue((String) json, WorkerView.class)));
  }

  /** The workers registered on a Kubernetes pod. */
  public List<WorkerView> onPod(String podName) {
    return list().stream().filter(w -> podName.equals(w.podName())).toList();
  }

  /** Marks a worker lost for good (its leases were released); it re-registers if it comes back. */
  public void markLost(WorkerView worker) {
    redis
        .opsForHash()
        .put(key, worker.id(), Json.mapper().writeValueAsString(worker.withState(WorkerView.LOST)));
  }

  /**
   * Forgets workers silent for longer than {@code retention}: each worker process registers under a
   * new id, so without this every restart would leave an entry behind for good. A worker that comes
   * back re-registers on its next heartbeat. Returns how many were forgotten.
   */
  public int forgetLost(Duration retention) {
    Instant cutoff = clock.instant().minus(retention);
    int forgotten = 0;
    for (Map.Entry<Object, Object> e : redis.opsForHash().entries(key).entrySet()) {
      WorkerView stored = Json.mapper().readValue((String) e.getValue(), WorkerView.class);
      if (stored.lastHeartbeat() == null || stored.lastHeartbeat().isBefore(cutoff)) {
        forgotten += redis.opsForHash().delete(key, e.getKey()).intValue();
      }
    }
    return forgotten;
  }

  private WorkerView withLiveness(WorkerView worker) {
    boolean silent =
        worker.lastHeartbeat() == null
            || worker.lastHeartbeat().plus(lostAfter).isBefore(clock.instant());
    return silent && !WorkerView.LOST.equals(worker.state())
        ? worker.withState(WorkerView.LOST)
        : worker;
  }
}
