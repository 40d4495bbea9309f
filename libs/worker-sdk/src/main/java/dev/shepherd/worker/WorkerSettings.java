package dev.shepherd.worker;

import java.time.Duration;

/**
 * @param workerId this worker's id, in leases, events and logs
 * @param pool the worker pool whose queue this worker consumes
 * @param capacity jobs this worker runs at once; also its number of consumers
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
    Duration heartbeat) {

  public WorkerSettings(String workerId, String pool, int capacity, Duration leaseTtl) {
    this(workerId, pool, capacity, leaseTtl, null, Duration.ofSeconds(5));
  }

  public WorkerSettings {
    if (capacity < 1) {
      throw new IllegalArgumentException("capacity must be >= 1, was " + capacity);
    }
    if (workerId == null || workerId.isBlank() || workerId.contains("|")) {
      throw new IllegalArgumentException("workerId must be non-blank and free of '|'");
    }
  }

  public Duration renewEvery() {
    return leaseTtl.dividedBy(3);
  }
}
