package dev.shepherd.engine.recovery;

import dev.shepherd.store.JobQueries;
import dev.shepherd.store.Outbox;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Start-up and periodic recovery of jobs that were dispatched but never started: QUEUED for longer
 * than the schedule-to-start timeout, their work message lost or never confirmed. They go back to
 * the outbox and are published again; a duplicate delivery is harmless (the claim refuses it).
 * Several recovery instances can run it at once: each requeue restarts the job's wait in the same
 * script, so only one of them requeues it.
 *
 * <p>A job that waits long is not a job without a message: behind a backlog every job waits past
 * the timeout with its message in the queue. So where the broker says how many messages are ready
 * in the pool's queue ({@link WorkQueueDepth}), a pass publishes again at most the pool's QUEUED
 * jobs less those messages, the longest-waiting first: nothing while every QUEUED job can have its
 * message. Before, a 100,000-job run whose backlog waited past a 20 s timeout had every waiting job
 * published again once per timeout: over 200,000 duplicates in ten minutes, each delivered and
 * refused, which slowed the drain that made them. A lost message behind a queue that also holds
 * duplicates waits until enough of them are consumed; the broker's count read at another instant
 * than Redis' makes the difference approximate, never unsafe: too many published again are refused
 * at the claim, too few are published at a later pass. When the broker cannot answer (a node
 * failing over), the pass publishes nothing for the pool and asks again next time: going by the
 * timeout alone then had the second 100,000-job run publish 8,000 waiting jobs again at once. A
 * broker that stays silent (an account refused the passive declare, a queue gone for good) must not
 * keep a lost message's job waiting for ever, though: from the {@value #WARN_AFTER_UNANSWERED}th
 * pass in a row without an answer the pass says so at WARN, and from the {@value
 * #FALLBACK_AFTER_UNANSWERED}th it goes by the timeout alone for that pool until the broker answers
 * again (ADR 50).
 */
public final class StaleQueued {

  private static final Logger log = LoggerFactory.getLogger(StaleQueued.class);

  /** The default of {@code shepherd.recovery.stale-queued-batch-size}. */
  public static final int DEFAULT_BATCH_SIZE = 500;

  /** The most job ids one log line names. */
  private static final int LOGGED_IDS = 20;

  /** Passes in a row without the broker's answer after which a pool's silence is logged at WARN. */
  public static final int WARN_AFTER_UNANSWERED = 3;

  /**
   * Passes in a row without the broker's answer after which a pool goes by the timeout alone (5
   * minutes at the default 30 s interval: past a node's failover, short of a job lost for good).
   */
  public static final int FALLBACK_AFTER_UNANSWERED = 10;

  private final Outbox outbox;
  private final Supplier<? extends Collection<String>> pools;
  private final Duration scheduleToStartTimeout;
  private final int batchSize;
  private final JobQueries queries;
  private final WorkQueueDepth depth;
  private final Map<String, Integer> unanswered = new ConcurrentHashMap<>();

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
    this(outbox, pools, scheduleToStartTimeout, batchSize, null, WorkQueueDepth.UNKNOWN);
  }

  /**
   * @param queries counts each pool's QUEUED jobs, to set against {@code depth}
   * @param depth the messages ready in each pool's work queue (see the class comment)
   */
  public StaleQueued(
      Outbox outbox,
      Supplier<? extends Collection<String>> pools,
      Duration scheduleToStartTimeout,
      int batchSize,
      JobQueries queries,
      WorkQueueDepth depth) {
    if (queries == null && depth != WorkQueueDepth.UNKNOWN) {
      throw new IllegalArgumentException("a work queue's depth needs the queries to compare it to");
    }
    this.outbox = outbox;
    this.pools = pools;
    this.scheduleToStartTimeout = scheduleToStartTimeout;
    this.batchSize = batchSize;
    this.queries = queries;
    this.depth = depth;
  }

  /** One pass over every pool and partition; returns how many jobs were requeued. */
  public int requeueOnce() {
    int total = 0;
    for (String pool : pools.get()) {
      long missing = missing(pool);
      for (int partition = 0; partition < outbox.partitions() && missing > 0; partition++) {
        int limit = (int) Math.min(batchSize, missing);
        List<String> ids = outbox.requeueStale(partition, pool, scheduleToStartTimeout, limit);
        if (!ids.isEmpty()) {
          log.warn(
              "{} job(s) of pool {} were QUEUED longer than {} and had no message; published"
                  + " again: {}",
              ids.size(),
              pool,
              scheduleToStartTimeout,
              ids.size() <= LOGGED_IDS ? ids : ids.subList(0, LOGGED_IDS) + " and more");
        }
        missing -= ids.size();
        total += ids.size();
      }
    }
    return total;
  }

  /**
   * How many of the pool's QUEUED jobs may lack a work message: those jobs less the messages ready
   * in its queue; none when the broker cannot say now, unless it has not said for {@link
   * #FALLBACK_AFTER_UNANSWERED} passes; without bound when there is no broker to ask ({@link
   * WorkQueueDepth#UNKNOWN}).
   */
  private long missing(String pool) {
    if (depth == WorkQueueDepth.UNKNOWN) {
      return Long.MAX_VALUE;
    }
    OptionalLong ready = depth.ready(pool);
    if (ready.isEmpty()) {
      return unanswered(pool);
    }
    Integer silentFor = unanswered.remove(pool);
    if (silentFor != null && silentFor >= WARN_AFTER_UNANSWERED) {
      log.info("pool {}: the broker answers again after {} pass(es) without", pool, silentFor);
    }
    long queued = queries.queuedInPool(pool);
    long missing = queued - ready.getAsLong();
    if (missing <= 0) {
      log.debug(
          "pool {}: {} job(s) QUEUED and {} message(s) ready: none is missing",
          pool,
          queued,
          ready);
    }
    return missing;
  }

  /**
   * A pass the broker did not answer for {@code pool}: nothing is published again (the broker is
   * away, a node failing over: what is published now could not be routed either, and the next pass
   * asks again), until it has been silent too long.
   */
  private long unanswered(String pool) {
    int passes = unanswered.merge(pool, 1, Integer::sum);
    if (passes >= FALLBACK_AFTER_UNANSWERED) {
      log.warn(
          "pool {}: the broker has not said what its work queue holds for {} passes in a row;"
              + " jobs QUEUED longer than {} are published again by that timeout alone until it"
              + " does",
          pool,
          passes,
          scheduleToStartTimeout);
      return Long.MAX_VALUE;
    }
    if (passes >= WARN_AFTER_UNANSWERED) {
      log.warn(
          "pool {}: the broker has not said what its work queue holds for {} passes in a row"
              + " (passive declare of the queue failed); nothing published again, and from {}"
              + " passes jobs QUEUED longer than {} are published again by that timeout alone",
          pool,
          passes,
          FALLBACK_AFTER_UNANSWERED,
          scheduleToStartTimeout);
    } else {
      log.debug(
          "pool {}: the broker cannot say what its queue holds; nothing published again", pool);
    }
    return 0;
  }

  private static Supplier<List<String>> fixed(Collection<String> pools) {
    List<String> copy = List.copyOf(pools);
    return () -> copy;
  }
}
