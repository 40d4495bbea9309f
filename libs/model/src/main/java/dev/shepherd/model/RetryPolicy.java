package dev.shepherd.model;

import java.time.Duration;
import java.util.random.RandomGenerator;

/**
 * Exponential backoff with full jitter: the wait before attempt n+1 is uniform in [0, min(max,
 * initial * 2^(n-1))]. Full jitter spreads a burst of failures out instead of retrying them in
 * lockstep.
 */
public record RetryPolicy(Duration initial, Duration max) {

  public RetryPolicy {
    if (initial.isNegative() || max.compareTo(initial) < 0) {
      throw new IllegalArgumentException("need 0 <= initial <= max, got " + initial + ", " + max);
    }
  }

  /** The cap of the wait after {@code failedAttempt} (1-based) failed. */
  public Duration ceiling(int failedAttempt) {
    int doublings = Math.min(Math.max(failedAttempt - 1, 0), 30);
    long millis = initial.toMillis() << doublings;
    return millis < 0 || millis > max.toMillis() ? max : Duration.ofMillis(millis);
  }

  public Duration backoff(int failedAttempt, RandomGenerator random) {
    long ceiling = ceiling(failedAttempt).toMillis();
    return Duration.ofMillis(ceiling == 0 ? 0 : random.nextLong(ceiling + 1));
  }
}
