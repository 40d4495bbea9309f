package dev.shepherd.worker;

import java.time.Duration;

/**
 * How one worker runs.
 *
 * <pre>{@code
 * var settings = new WorkerSettings("worker-1", "default", 4, Duration.ofSeconds(30));
 * settings.renewEvery(); // PT10S
 * }</pre>
 *
 * @param workerId this worker's id, in leases, events and logs; unique among running workers
 * @param pool the worker pool whose queue this worker consumes
 * @param capacity jobs this worker runs at once; also its number of consumers (prefetch 1 each)
 * @param leaseTtl how long a claim holds without renewal; renewed every third of it
 * @param podName the Kubernetes pod this worker runs in, or null off Kubernetes
 * @param heartbeat how often the worker writes its registry entry
 */
public record WorkerSettings(
    String workerId,
    String pool,
    int capacity,
    Duration leaseTtl,
    String podName,
    Duration heartbeat,
    Duration outcomeHold) {

  /** How long a published outcome keeps its lease while waiting to be applied, by default. */
  public static final Duration DEFAULT_OUTCOME_HOLD = Duration.ofMinutes(5);

  /** Settings off Kubernetes, with a five-second heartbeat. */
  public WorkerSettings(String workerId, String pool, int capacity, Duration leaseTtl) {
    this(workerId, pool, capacity, leaseTtl, null, Duration.ofSeconds(5), DEFAULT_OUTCOME_HOLD);
  }

  public WorkerSettings {
    if (workerId == null || workerId.isBlank() || workerId.contains("|")) {
      // '|' separates the worker from the token in the lease value
      throw new IllegalArgumentException("workerId must be non-blank and free of '|'");
    }
    if (pool == null || pool.isBlank()) {
      throw new IllegalArgumentException("pool must be non-blank");
    }
    if (capacity < 1) {
      throw new IllegalArgumentException("capacity must be >= 1, was " + capacity);
    }
    if (leaseTtl == null || leaseTtl.toMillis() < 3) {
      throw new IllegalArgumentException("leaseTtl must be at least 3ms, was " + leaseTtl);
    }
    if (heartbeat == null || heartbeat.isNegative() || heartbeat.isZero()) {
      throw new IllegalArgumentException("heartbeat must be positive, was " + heartbeat);
    }
    if (outcomeHold == null || outcomeHold.isNegative()) {
      throw new IllegalArgumentException("outcomeHold must not be negative, was " + outcomeHold);
    }
  }

  /** How often a running job's lease is renewed: a third of its TTL, so two renewals may fail. */
  public Duration renewEvery() {
    return leaseTtl.dividedBy(3);
  }
}
