package dev.shepherd.worker;

import dev.shepherd.store.JobStore;
import io.micrometer.core.instrument.Counter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * Renews the lease of each running attempt every third of its TTL, so two renewals can fail before
 * it expires. A refused renewal means another attempt owns the job now (the reaper or recovery took
 * the lease back): the attempt is cancelled and its handler interrupted. A renewal that fails
 * because Redis is unreachable is tried again at the next beat; if that lasts a whole TTL the lease
 * expires by itself and the next renewal is refused.
 *
 * <p>Once the attempt's outcome is published (confirmed by the broker) the lease is still renewed
 * until the status-tracker applies the outcome and releases it. Those leases are renewed together,
 * one call per partition per beat whatever their number, and marked as waiting for their outcome so
 * that recovery does not count them against the worker's capacity; a lease the call no longer finds
 * running was applied and is dropped (ADR 11). A status-tracker that lags or restarts must not make
 * a finished job run again: the outcome is safe in a durable queue. The hold is bounded, so an
 * outcome that is never applied (its message dead-lettered) lets the lease expire after all.
 */
final class LeaseKeeper {

  private static final Logger log = LoggerFactory.getLogger(LeaseKeeper.class);

  private final JobStore store;
  private final ScheduledExecutorService scheduler;
  private final Duration leaseTtl;
  private final Counter leasesLost;

  /** Attempts whose outcome is published, by job id, with when to stop waiting (nanoTime). */
  private final Map<String, Waiting> waiting = new ConcurrentHashMap<>();

  private record Waiting(Claim claim, long untilNanos, Duration hold) {}

  LeaseKeeper(
      JobStore store, ScheduledExecutorService scheduler, Duration leaseTtl, Counter leasesLost) {
    this.store = store;
    this.scheduler = scheduler;
    this.leaseTtl = leaseTtl;
    this.leasesLost = leasesLost;
    long every = renewEveryMillis();
    scheduler.scheduleAtFixedRate(this::renewWaiting, every, every, TimeUnit.MILLISECONDS);
  }

  private long renewEveryMillis() {
    return Math.max(1, leaseTtl.dividedBy(3).toMillis());
  }

  /** How many published outcomes wait for the status-tracker (their leases still held). */
  int waitingCount() {
    return waiting.size();
  }

  /** One beat for every lease that waits for its outcome: one call per partition. */
  private void renewWaiting() {
    if (waiting.isEmpty()) {
      return;
    }
    long now = System.nanoTime();
    Map<Integer, List<JobStore.WaitingOutcome>> byPartition = new HashMap<>();
    for (Waiting w : waiting.values()) {
      if (now - w.untilNanos() > 0) {
        waiting.remove(w.claim().jobId());
        log.warn(
            "the outcome of {} was not applied within {}; letting its lease expire",
            w.claim(),
            w.hold());
        continue;
      }
      byPartition
          .computeIfAbsent(store.partitionOf(w.claim().jobId()), p -> new ArrayList<>())
          .add(new JobStore.WaitingOutcome(w.claim().jobId(), w.claim().fencingToken()));
    }
    byPartition.forEach(
        (partition, outcomes) -> {
          try {
            Set<String> held = store.holdForOutcomes(partition, outcomes, leaseTtl);
            outcomes.stream()
                .map(JobStore.WaitingOutcome::jobId)
                .filter(id -> !held.contains(id))
                .forEach(waiting::remove); // applied: the tracker released the lease
          } catch (RuntimeException e) {
            log.warn(
                "could not renew {} leases waiting for their outcome; trying again in {}: {}",
                outcomes.size(),
                leaseTtl.dividedBy(3),
                e.toString());
          }
        });
  }

  /** The renewal of one attempt's lease. */
  final class Renewal {

    private final Attempt<?> attempt;
    private volatile ScheduledFuture<?> future;

    private Renewal(Attempt<?> attempt) {
      this.attempt = attempt;
    }

    /** Stops renewing: the lease expires after its TTL unless something releases it first. */
    void stop() {
      ScheduledFuture<?> f = future;
      if (f != null) {
        f.cancel(false);
      }
    }

    /**
     * The outcome is published: keep renewing until the status-tracker applied it (the renewal is
     * refused), or for at most {@code hold}.
     */
    void holdUntilApplied(Duration hold) {
      stop();
      Claim claim = attempt.claim();
      waiting.put(claim.jobId(), new Waiting(claim, System.nanoTime() + hold.toNanos(), hold));
    }

    private void renew() {
      if (attempt.isCancelled()) {
        stop();
        return;
      }
      Claim claim = attempt.claim();
      MDC.setContextMap(claim.mdc());
      try {
        if (store.renew(claim.jobId(), claim.fencingToken(), leaseTtl)) {
          return;
        }
        stop();
        leasesLost.increment();
        log.warn(
            "lost the lease of job {} attempt {} (token {}): another attempt owns the job;"
                + " interrupting the handler and reporting nothing more",
            claim.jobId(),
            claim.attempt(),
            claim.fencingToken());
        attempt.cancel("its lease was lost");
      } catch (RuntimeException e) {
        log.warn(
            "could not renew the lease of job {} attempt {}; trying again in {}: {}",
            claim.jobId(),
            claim.attempt(),
            leaseTtl.dividedBy(3),
            e.toString());
      } finally {
        MDC.clear();
      }
    }
  }

  /** Starts renewing; {@link Renewal#stop()} stops. */
  Renewal keep(Attempt<?> attempt) {
    long every = renewEveryMillis();
    var renewal = new Renewal(attempt);
    renewal.future =
        scheduler.scheduleAtFixedRate(renewal::renew, every, every, TimeUnit.MILLISECONDS);
    return renewal;
  }
}
