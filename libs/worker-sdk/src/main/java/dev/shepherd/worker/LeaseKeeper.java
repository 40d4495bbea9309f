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

  /** Starts renewing; cancel the returned future to stop (and let the lease expire). */
  ScheduledFuture<?> keep(Attempt<?> attempt) {
    long every = Math.max(1, leaseTtl.dividedBy(3).toMillis());
    return scheduler.scheduleAtFixedRate(() -> renew(attempt), every, every, TimeUnit.MILLISECONDS);
  }

  private void renew(Attempt<?> attempt) {
    if (attempt.isCancelled()) {
      return;
    }
    Claim claim = attempt.claim();
    MDC.setContextMap(claim.mdc());
    try {
      if (!store.renew(claim.jobId(), claim.fencingToken(), leaseTtl)) {
        leasesLost.increment();
        log.warn(
            "lost the lease of job {} attempt {} (token {}): another attempt owns the job;"
                + " interrupting the handler and reporting nothing more",
            claim.jobId(),
            claim.attempt(),
            claim.fencingToken());
        attempt.cancel("its lease was lost");
      }
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
