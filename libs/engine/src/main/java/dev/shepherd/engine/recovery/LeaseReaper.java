package dev.shepherd.engine.recovery;

import dev.shepherd.engine.JobOutcomeMeters;
import dev.shepherd.engine.RedisStall;
import dev.shepherd.model.MetricNames;
import dev.shepherd.model.RetryPolicy;
import dev.shepherd.store.LeaseRecovery;
import dev.shepherd.store.ReapedLease;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.List;
import java.util.random.RandomGenerator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Walks every partition's sorted set of lease deadlines (not keyspace notifications, which Redis
 * may drop) and takes back the expired ones. Several recovery instances may run it at once: each
 * reap is one atomic script, so a lease is taken back once.
 */
public final class LeaseReaper {

  private static final Logger log = LoggerFactory.getLogger(LeaseReaper.class);

  private final LeaseRecovery recovery;
  private final RetryPolicy retryPolicy;
  private final RandomGenerator random;
  private final int batchSize;
  private final Counter expired;
  private final JobOutcomeMeters outcomes;

  public LeaseReaper(
      LeaseRecovery recovery,
      RetryPolicy retryPolicy,
      RandomGenerator random,
      int batchSize,
      MeterRegistry meters) {
    this.recovery = recovery;
    this.retryPolicy = retryPolicy;
    this.random = random;
    this.batchSize = batchSize;
    this.outcomes = new JobOutcomeMeters(meters);
    this.expired =
        Counter.builder(MetricNames.LEASES_EXPIRED)
            .description("leases taken back by the reaper because their deadline passed")
            .register(meters);
  }

  /**
   * One pass over every partition; returns how many leases were taken back. The first partition's
   * call goes alone: when Redis is slow to answer it (frozen, failing over) the pass ends there
   * ({@link RedisStall}), before it judges the other partitions as of a moment whose renewals Redis
   * held back. Once it answered promptly, the other partitions' calls go out together, one round
   * trip instead of one each (ADR 55).
   */
  public int reapOnce() {
    // A lease that expired is retried after a short backoff: the job did not fail, its worker did.
    long began = System.nanoTime();
    int[] total = {
      record(recovery.reapExpiredLeases(0, batchSize, retryPolicy.backoff(1, random)))
    };
    RedisStall.endPassIfSlow(began, "reaping the expired leases of partition 0");
    began = System.nanoTime();
    recovery.reapExpiredLeases(
        1, batchSize, () -> retryPolicy.backoff(1, random), reaped -> total[0] += record(reaped));
    RedisStall.endPassIfSlow(began, "reaping the expired leases of the other partitions");
    return total[0];
  }

  private int record(List<ReapedLease> reaped) {
    for (ReapedLease lease : reaped) {
      expired.increment();
      outcomes.count(lease.newState(), lease.type(), lease.pool());
      log.warn(
          "lease of job {} attempt {} expired (worker {}); job is now {}",
          lease.jobId(),
          lease.attempt(),
          lease.workerId(),
          lease.newState());
    }
    return reaped.size();
  }
}
