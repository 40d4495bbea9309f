package dev.shepherd.engine.recovery;

import dev.shepherd.engine.JobOutcomeMeters;
import dev.shepherd.engine.RedisStall;
import dev.shepherd.model.MetricNames;
import dev.shepherd.model.WorkerView;
import dev.shepherd.store.LeaseRecovery;
import dev.shepherd.store.ReapedLease;
import dev.shepherd.store.WorkerRegistry;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Releases the leases of workers that are gone, at once, without waiting for each lease's TTL: a
 * worker whose heartbeat stopped (the registry says lost), or whose pod Kubernetes reports deleted
 * or failed.
 */
public final class LostWorkers {

  private static final Logger log = LoggerFactory.getLogger(LostWorkers.class);

  /**
   * The default of {@code shepherd.recovery.over-capacity-grace}: well above the time the
   * status-tracker takes to apply a published outcome, well below a lease TTL.
   */
  public static final Duration DEFAULT_OVER_CAPACITY_GRACE = Duration.ofSeconds(10);

  private final LeaseRecovery recovery;
  private final WorkerRegistry registry;
  private final MeterRegistry meters;
  private final JobOutcomeMeters outcomes;
  private final Clock clock;
  private final Duration overCapacityGrace;

  public LostWorkers(LeaseRecovery recovery, WorkerRegistry registry, MeterRegistry meters) {
    this(recovery, registry, meters, Clock.systemUTC(), DEFAULT_OVER_CAPACITY_GRACE);
  }

  /**
   * @param overCapacityGrace only leases held longer than this count against a worker's capacity: a
   *     worker that published an outcome claims its next job before the status-tracker applied the
   *     outcome and released the lease, so it briefly holds one more
   */
  public LostWorkers(
      LeaseRecovery recovery,
      WorkerRegistry registry,
      MeterRegistry meters,
      Clock clock,
      Duration overCapacityGrace) {
    this.recovery = recovery;
    this.registry = registry;
    this.meters = meters;
    this.outcomes = new JobOutcomeMeters(meters);
    this.clock = clock;
    this.overCapacityGrace = overCapacityGrace;
    meters.counter(MetricNames.ABANDONED_ATTEMPTS); // exposed from the start at 0
    for (String reason : java.util.List.of("worker_lost", "pod_gone")) {
      meters.counter(MetricNames.LEASES_RELEASED, "reason", reason); // exposed from the start at 0
    }
  }

  /** One pass: every worker that went silent loses its leases; returns how many were released. */
  public int releaseSilentWorkers() {
    int released = 0;
    long began = System.nanoTime();
    List<WorkerView> silent = registry.newlySilent();
    RedisStall.endPassIfSlow(began, "reading the workers' heartbeats");
    for (WorkerView worker : silent) {
      released +=
          release(
              worker, "worker lost: no heartbeat since " + worker.lastHeartbeat(), "worker_lost");
    }
    return released;
  }

  /**
   * Greedy workers: one that holds more leases than its declared capacity (or, with capacity 1,
   * took a new job while it still held one it never finished) has its oldest attempts declared
   * abandoned and re-dispatched at once. Returns how many were abandoned.
   */
  public synchronized int abandonOverCapacity() {
    long began = System.nanoTime();
    Map<String, List<LeaseRecovery.HeldLease>> held = recovery.heldLeases();
    List<WorkerView> workers = registry.list();
    RedisStall.endPassIfSlow(began, "reading the leases held and the workers");
    int abandoned = 0;
    Instant now = clock.instant();
    for (WorkerView worker : workers) {
      List<LeaseRecovery.HeldLease> ofWorker = held.getOrDefault(worker.id(), List.of());
      if (worker.capacity() < 1 || ofWorker.size() <= worker.capacity()) {
        continue;
      }
      // Count only leases of attempts still running, held longer than the grace: a finished
      // attempt whose outcome the status-tracker has not applied yet (the worker said so, or it
      // is younger than the grace), plus the next job its consumer just claimed, is not greed.
      Instant settled = now.minus(overCapacityGrace);
      List<LeaseRecovery.HeldLease> leases =
          ofWorker.stream()
              .filter(l -> !l.outcomePublished())
              .filter(l -> l.since() != null && !l.since().isAfter(settled))
              .toList();
      for (LeaseRecovery.HeldLease lease :
          leases.subList(0, Math.max(0, leases.size() - worker.capacity()))) {
        String reason =
            "abandoned: worker "
                + worker.id()
                + " holds "
                + leases.size()
                + " leases, more than its capacity "
                + worker.capacity();
        var released = recovery.abandon(lease.jobId(), worker.id(), reason);
        if (released.isPresent()) {
          abandoned++;
          meters.counter(MetricNames.ABANDONED_ATTEMPTS).increment();
          log.warn("job {} attempt {} {}", lease.jobId(), released.get().attempt(), reason);
        }
      }
    }
    return abandoned;
  }

  /** A pod is gone: release the leases of every worker that ran on it. */
  public int podGone(String podName, String why) {
    int released = 0;
    for (WorkerView worker : registry.onPod(podName)) {
      released += release(worker, "pod " + podName + " " + why, "pod_gone");
    }
    return released;
  }

  private int release(WorkerView worker, String reason, String tag) {
    List<ReapedLease> leases = recovery.releaseLeasesOf(worker.id(), reason);
    registry.markLost(worker);
    if (!leases.isEmpty()) {
      meters.counter(MetricNames.LEASES_RELEASED, "reason", tag).increment(leases.size());
      for (ReapedLease lease : leases) {
        outcomes.count(lease.newState(), lease.type(), lease.pool());
      }
      log.warn(
          "released {} lease(s) of worker {} at once: {} (jobs {})",
          leases.size(),
          worker.id(),
          reason,
          leases.stream().map(ReapedLease::jobId).toList());
    }
    return leases.size();
  }
}
