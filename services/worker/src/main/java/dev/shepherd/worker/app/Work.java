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
}
