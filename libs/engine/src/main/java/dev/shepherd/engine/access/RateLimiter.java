package dev.shepherd.engine.access;

import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A token bucket per principal: {@code perSecond} requests a second on average, bursts of up to
 * {@code burst}. One scheduler replica's count: with several replicas a principal gets each one's
 * rate (docs/SECURITY.md). A rate of 0 or less allows everything.
 */
public final class RateLimiter {

  private final double perSecond;
  private final double burst;
  private final Clock clock;
  private final ConcurrentHashMap<String, Bucket> buckets = new ConcurrentHashMap<>();

  private static final class Bucket {
    double tokens;
    long at;

    Bucket(double tokens, long at) {
      this.tokens = tokens;
      this.at = at;
    }
  }

  public RateLimiter(double perSecond, int burst, Clock clock) {
    this.perSecond = perSecond;
    this.burst = Math.max(1, burst);
    this.clock = clock;
  }

  public boolean enabled() {
    return perSecond > 0;
  }

  /**
   * Takes one request of {@code principal}'s; null when it may go on, else how long until it may (a
   * 429's {@code Retry-After}).
   */
  public Duration acquire(String principal) {
    if (!enabled()) {
      return null;
    }
    long now = clock.millis();
    Bucket bucket = buckets.computeIfAbsent(principal, p -> new Bucket(burst, now));
    synchronized (bucket) {
      bucket.tokens = Math.min(burst, bucket.tokens + (now - bucket.at) / 1000.0 * perSecond);
      bucket.at = now;
      if (bucket.tokens >= 1) {
        bucket.tokens -= 1;
        return null;
      }
      double missing = 1 - bucket.tokens;
      return Duration.ofMillis((long) Math.ceil(missing / perSecond * 1000));
    }
  }
}
