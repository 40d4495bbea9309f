package dev.shepherd.e2e.bench;

import java.util.concurrent.locks.LockSupport;

/**
 * A producer's steady pace: {@link #await()} returns at the next event's time, at once when the
 * producer is behind, so that the events keep their rate on average whatever one of them took. The
 * latency scenario's submissions, the broker-alone probe's messages and the Redis-call probe's
 * calls are paced by it.
 */
final class Pacer {

  private final long intervalNanos;
  private long next = System.nanoTime();

  /** {@code perSecond} events a second, the first at once. */
  Pacer(double perSecond) {
    this.intervalNanos = (long) (1e9 / perSecond);
  }

  /** Waits for the next event's time, then counts that event as sent. */
  void await() {
    long wait = next - System.nanoTime();
    if (wait > 0) {
      LockSupport.parkNanos(wait); // a producer's pace, not a wait for a result
    }
    next += intervalNanos;
  }
}
