package dev.shepherd.engine;

import java.time.Duration;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.function.IntSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs one pass of background work (dispatching, reaping) on its own thread: again at once while a
 * pass found work, after {@code idlePoll} when it found none, and at once when {@link #wakeUp()}
 * says there is something new (a job was just accepted). Errors (broker or Redis down) are logged
 * and retried after {@code errorBackoff}; the loop never dies of them.
 */
public final class WorkLoop implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(WorkLoop.class);

  private final String name;
  private final IntSupplier pass;
  private final Duration idlePoll;
  private final Duration errorBackoff;
  private final Semaphore wakeUps = new Semaphore(0);
  private final Thread thread;
  private volatile boolean running = true;

  /**
   * @param pass one pass of work; returns how many items it handled
   */
  public WorkLoop(String name, IntSupplier pass, Duration idlePoll, Duration errorBackoff) {
    this.name = name;
    this.pass = pass;
    this.idlePoll = idlePoll;
    this.errorBackoff = errorBackoff;
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
    while (running) {
      Duration wait = idlePoll;
      try {
        if (pass.getAsInt() > 0) {
          wait = Duration.ZERO;
        }
      } catch (RuntimeException e) {
        log.warn("{} pass failed, retrying in {}: {}", name, errorBackoff, e.toString());
        wait = errorBackoff;
      }
      try {
        if (!wait.isZero() && wakeUps.tryAcquire(wait.toMillis(), TimeUnit.MILLISECONDS)) {
          wakeUps.drainPermits();
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
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
