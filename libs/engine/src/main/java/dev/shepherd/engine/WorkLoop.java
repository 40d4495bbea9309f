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
        if (settle != null && (unsettled || !settle.answersPromptly())) {
          settleAfterOutage();
          unsettled = false;
          // probe again first: Redis may have gone away during the settle period (a restart
          // after a freeze), and a pass sent into that outage would judge by its own send time
          continue;
        }
        long began = System.nanoTime();
        try {
          if (pass.getAsInt() > 0) {
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
   */
  public record Settle(BooleanSupplier storeAcceptsWrites, Duration period) {

    /**
     * Whether Redis takes a write, and promptly: a probe that was held up by a frozen Redis comes
     * back true the moment it thaws, while every worker's renewal is still queued behind it.
     */
    boolean answersPromptly() {
      long began = System.nanoTime();
      return storeAcceptsWrites.getAsBoolean()
          && System.nanoTime() - began < RedisStall.SLOW.toNanos();
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
