package dev.shepherd.engine;

import java.time.Duration;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.IntSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs one pass of background work (dispatching, reaping) on its own thread: again at once while a
 * pass found work, after {@code idlePoll} when it found none, and at once when {@link #wakeUp()}
 * says there is something new (a job was just accepted). Errors (broker or Redis down) are logged
 * and retried after {@code errorBackoff}; the loop never dies of them.
 *
 * <p>A loop that judges other processes by what they wrote to Redis (recovery's reaper and its
 * lost-worker and over-capacity passes) is given a {@link Settle}: before each pass it asks whether
 * Redis takes writes promptly (an out-of-memory Redis still runs a pass that only reads and
 * deletes, while the workers' renewals and marks fail), and when it does not, or a pass failed or
 * hung longer than the settle period, it waits until Redis takes writes again and then for the
 * period, so that the workers renew and mark their leases and the status-tracker applies the
 * outcomes that waited through the outage before the loop judges anyone by them. A pass that meets
 * the outage in the middle ends at its first slow call ({@link RedisStall}) rather than judging the
 * rest with what it reads right after, and counts as failed.
 *
 * <p>A Redis that answers every call slowly but does answer (swapping, an overloaded host) is not
 * an outage: the workers' renewals get through too, only late. When even the fastest of the last
 * {@link Settle#window()} probes took {@link RedisStall#SLOW} or more, the loop says so loudly and
 * counts only a call three times that slow as a stall, so that recovery still judges, at the pace
 * Redis allows, instead of settling for ever. The first prompt probe brings the threshold back.
 */
public final class WorkLoop implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(WorkLoop.class);

  private final String name;
  private final IntSupplier pass;
  private final Duration idlePoll;
  private final Duration errorBackoff;
  private final Settle settle;
  private final Semaphore wakeUps = new Semaphore(0);
  private final Thread thread;
  private volatile boolean running = true;

  /** How long the latest probes that Redis answered took, in nanoseconds; a ring. */
  private final long[] probes;

  private int probed;

  /** What counts as a stall for this loop's passes now. */
  private Duration stall = RedisStall.SLOW;

  /**
   * @param pass one pass of work; returns how many items it handled
   */
  public WorkLoop(String name, IntSupplier pass, Duration idlePoll, Duration errorBackoff) {
    this(name, pass, idlePoll, errorBackoff, null);
  }

  /**
   * @param pass one pass of work; returns how many items it handled
   * @param settle how the loop lets the others catch up after an outage; null for not at all
   */
  public WorkLoop(
      String name, IntSupplier pass, Duration idlePoll, Duration errorBackoff, Settle settle) {
    this.name = name;
    this.pass = pass;
    this.idlePoll = idlePoll;
    this.errorBackoff = errorBackoff;
    this.settle = settle;
    this.thread = Thread.ofPlatform().name("shepherd-" + name).daemon().unstarted(this::run);
    this.probes = new long[settle == null ? 0 : settle.window()];
  }

  public void start() {
    thread.start();
  }

  /** Asks for a pass now instead of at the next poll. */
  public void wakeUp() {
    if (wakeUps.availablePermits() == 0) {
      wakeUps.release();
    }
  }

  private void run() {
    boolean unsettled = false;
    while (running) {
      Duration wait = idlePoll;
      try {
        if (settle != null && (unsettled || !answersPromptly())) {
          settleAfterOutage();
          unsettled = false;
          // probe again first: Redis may have gone away during the settle period (a restart
          // after a freeze), and a pass sent into that outage would judge by its own send time
          continue;
        }
        long began = System.nanoTime();
        try {
          if (RedisStall.within(stall, pass) > 0) {
            wait = Duration.ZERO;
          }
          unsettled =
              settle != null && System.nanoTime() - began > settle.period().toNanos(); // it hung
        } catch (RuntimeException e) {
          log.warn("{} pass failed, retrying in {}: {}", name, errorBackoff, e.toString());
          wait = errorBackoff;
          unsettled = settle != null;
        }
        if (!wait.isZero() && wakeUps.tryAcquire(wait.toMillis(), TimeUnit.MILLISECONDS)) {
          wakeUps.drainPermits();
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }

  /**
   * Whether Redis takes a write, and promptly: a probe that was held up by a frozen Redis comes
   * back true the moment it thaws, while every worker's renewal is still queued behind it.
   */
  private boolean answersPromptly() {
    long began = System.nanoTime();
    if (!settle.storeAcceptsWrites().getAsBoolean()) {
      return false;
    }
    long took = System.nanoTime() - began;
    probes[probed++ % probes.length] = took;
    Duration was = stall;
    stall = stallThreshold();
    if (stall.compareTo(was) > 0 && was.equals(RedisStall.SLOW)) {
      log.warn(
          "{}: Redis answered each of its last {} probes in {} ms or more: it is slow, not stalled;"
              + " passes go on, and only a call of {} ms or more ends one",
          name,
          probes.length,
          stall.dividedBy(3).toMillis(),
          stall.toMillis());
    } else if (stall.compareTo(was) < 0 && stall.equals(RedisStall.SLOW)) {
      log.info(
          "{}: Redis answers promptly again; a call of {} ms ends a pass", name, stall.toMillis());
    }
    return took < stall.toNanos();
  }

  /**
   * {@link RedisStall#SLOW}, or three times the fastest of the last probes when even that took
   * longer: a stall is a call much slower than Redis has lately been, not merely a slow one.
   */
  private Duration stallThreshold() {
    if (probed < probes.length) {
      return RedisStall.SLOW;
    }
    long fastest = Long.MAX_VALUE;
    for (long took : probes) {
      fastest = Math.min(fastest, took);
    }
    Duration raised = Duration.ofNanos(fastest).multipliedBy(3);
    return fastest < RedisStall.SLOW.toNanos() ? RedisStall.SLOW : raised;
  }

  /** Waits until Redis takes writes, then for the settle period. */
  private void settleAfterOutage() throws InterruptedException {
    while (running && !settle.storeAcceptsWrites().getAsBoolean()) {
      Thread.sleep(errorBackoff); // a poll of Redis until it answers, on this loop's own thread
    }
    log.info(
        "{}: Redis takes writes again; waiting {} for workers and the status-tracker to catch up"
            + " before the next pass",
        name,
        settle.period());
    Thread.sleep(settle.period()); // the catch-up time given to the others, by design
  }

  /**
   * How a loop lets the others catch up after an outage.
   *
   * @param storeAcceptsWrites true once Redis takes writes again
   * @param period how long to wait after that: at least one lease renewal period and one worker
   *     heartbeat, so that what waited through the outage is written before it is judged
   * @param window how many of the latest answered probes tell a slow Redis from a stalled one
   */
  public record Settle(BooleanSupplier storeAcceptsWrites, Duration period, int window) {

    public static final int DEFAULT_WINDOW = 5;

    public Settle {
      if (window < 1) {
        throw new IllegalArgumentException("window must be at least 1, was " + window);
      }
    }

    public Settle(BooleanSupplier storeAcceptsWrites, Duration period) {
      this(storeAcceptsWrites, period, DEFAULT_WINDOW);
    }
  }

  @Override
  public void close() {
    running = false;
    thread.interrupt();
    try {
      thread.join(5_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
