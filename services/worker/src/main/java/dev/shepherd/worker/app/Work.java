package dev.shepherd.worker.app;

import java.time.Duration;

/** Stands in for real work in the demo handlers: takes time, and stops when interrupted. */
final class Work {

  private Work() {}

  static void take(Duration duration) throws InterruptedException {
    if (!duration.isZero()) {
      Thread.sleep(duration);
    }
  }

  /**
   * Takes the whole time even when interrupted (and keeps the interrupt for the caller): a handler
   * that ignores cancellation, for tests and demos.
   */
  static void takeIgnoringInterrupts(Duration duration) {
    long end = System.nanoTime() + duration.toNanos();
    boolean interrupted = false;
    for (long left = end - System.nanoTime(); left > 0; left = end - System.nanoTime()) {
      try {
        Thread.sleep(Duration.ofNanos(left));
      } catch (InterruptedException e) {
        interrupted = true;
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
  }
}
