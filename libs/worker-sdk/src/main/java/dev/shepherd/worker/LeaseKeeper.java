package dev.shepherd.worker;

import dev.shepherd.store.JobStore;
import io.micrometer.core.instrument.Counter;
import java.time.Duration;
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
 * until the status-tracker applies the outcome and releases it, which the next renewal learns by
 * being refused. Those renewals mark the lease as waiting for its outcome, so that recovery does
 * not count it against the worker's capacity; they keep the usual beat, so a tracker that keeps up
 * costs no Redis call at all (ADR 11). A status-tracker that lags or restarts must not make a
 * finished job run again: the outcome is safe in a durable queue. The hold is bounded, so an
 * outcome that is never applied (its message dead-lettered) lets the lease expire after all.
 */
final class LeaseKeeper {

  private static final Logger log = LoggerFactory.getLogger(LeaseKeeper.class);

  private final JobStore store;
  private final ScheduledExecutorService scheduler;
  private final Duration leaseTtl;
  private final Counter leasesLost;

  LeaseKeeper(
      JobStore store, ScheduledExecutorService scheduler, Duration leaseTtl, Counter leasesLost) {
    this.store = store;
    this.scheduler = scheduler;
    this.leaseTtl = leaseTtl;
    this.leasesLost = leasesLost;
  }

  /** The renewal of one attempt's lease. */
  final class Renewal {

    private final Attempt<?> attempt;
    private volatile ScheduledFuture<?> future;
    private volatile long holdUntilNanos;
    private volatile boolean holding;
    private volatile Duration hold = Duration.ZERO;

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
      this.hold = hold;
      this.holdUntilNanos = System.nanoTime() + hold.toNanos();
      this.holding = true;
    }

    private void renew() {
      if (attempt.isCancelled()) {
        stop();
        return;
      }
      if (holding && System.nanoTime() - holdUntilNanos > 0) {
        log.warn(
            "the outcome of {} was not applied within {}; letting its lease expire",
            attempt.claim(),
            hold);
        stop();
        return;
      }
      Claim claim = attempt.claim();
      MDC.setContextMap(claim.mdc());
      try {
        // While holding, the renewal also tells recovery that the lease no longer counts against
        // the worker's capacity.
        boolean renewed =
            holding
                ? store.holdForOutcome(claim.jobId(), claim.fencingToken(), leaseTtl)
                : store.renew(claim.jobId(), claim.fencingToken(), leaseTtl);
        if (renewed) {
          return;
        }
        stop();
        if (holding) {
          log.debug("the outcome of {} was applied; its lease is released", claim);
          return;
        }
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
    long every = Math.max(1, leaseTtl.dividedBy(3).toMillis());
    var renewal = new Renewal(attempt);
    renewal.future =
        scheduler.scheduleAtFixedRate(renewal::renew, every, every, TimeUnit.MILLISECONDS);
    return renewal;
  }
}
