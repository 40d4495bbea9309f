package dev.shepherd.engine.recovery;

import dev.shepherd.store.Outbox;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Start-up and periodic recovery of jobs that were dispatched but never started: QUEUED for longer
 * than the schedule-to-start timeout, their work message lost or never confirmed. They go back to
 * the outbox and are published again; a duplicate delivery is harmless (the claim refuses it).
 * Several recovery instances can run it at once: each requeue restarts the job's wait in the same
 * script, so only one of them requeues it.
 */
public final class StaleQueued {

  private static final Logger log = LoggerFactory.getLogger(StaleQueued.class);

  /** The default of {@code shepherd.recovery.stale-queued-batch-size}. */
  public static final int DEFAULT_BATCH_SIZE = 500;

  private final Outbox outbox;
  private final Supplier<? extends Collection<String>> pools;
  private final Duration scheduleToStartTimeout;
  private final int batchSize;

  public StaleQueued(Outbox outbox, Collection<String> pools, Duration scheduleToStartTimeout) {
    this(outbox, pools, scheduleToStartTimeout, DEFAULT_BATCH_SIZE);
  }

  /**
   * @param batchSize jobs requeued per partition and pool per pass
   */
  public StaleQueued(
      Outbox outbox, Collection<String> pools, Duration scheduleToStartTimeout, int batchSize) {
    this(outbox, fixed(pools), scheduleToStartTimeout, batchSize);
  }

  /**
   * @param pools the pools to walk, asked on each pass ({@link KnownPools}: announced ones too)
   * @param batchSize jobs requeued per partition and pool per pass
   */
  public StaleQueued(
      Outbox outbox,
      Supplier<? extends Collection<String>> pools,
      Duration scheduleToStartTimeout,
      int batchSize) {
    this.outbox = outbox;
    this.pools = pools;
    this.scheduleToStartTimeout = scheduleToStartTimeout;
    this.batchSize = batchSize;
  }

  /** One pass over every partition and pool; returns how many jobs were requeued. */
  public int requeueOnce() {
    int total = 0;
    Collection<String> walked = pools.get();
    for (int partition = 0; partition < outbox.partitions(); partition++) {
      for (String pool : walked) {
        List<String> ids = outbox.requeueStale(partition, pool, scheduleToStartTimeout, batchSize);
        if (!ids.isEmpty()) {
          log.warn(
              "{} job(s) of pool {} were QUEUED longer than {}; published again: {}",
              ids.size(),
              pool,
              scheduleToStartTimeout,
              ids);
        }
        total += ids.size();
      }
    }
    return total;
  }

  private static Supplier<List<String>> fixed(Collection<String> pools) {
    List<String> copy = List.copyOf(pools);
    return () -> copy;
  }
}
