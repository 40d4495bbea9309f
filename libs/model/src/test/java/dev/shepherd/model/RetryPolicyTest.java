package dev.shepherd.model;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class RetryPolicyTest {

  private final RetryPolicy policy = new RetryPolicy(Duration.ofMillis(100), Duration.ofSeconds(5));

  @Test
  void ceilingDoublesPerFailedAttemptUpToTheMax() {
    assertThat(policy.ceiling(1)).isEqualTo(Duration.ofMillis(100));
    assertThat(policy.ceiling(2)).isEqualTo(Duration.ofMillis(200));
    assertThat(policy.ceiling(4)).isEqualTo(Duration.ofMillis(800));
    assertThat(policy.ceiling(7)).isEqualTo(Duration.ofSeconds(5));
    assertThat(policy.ceiling(500)).isEqualTo(Duration.ofSeconds(5));
  }

  @Test
  void fullJitterStaysWithinTheCeilingAndSpreads() {
    var random = new SplittableRandom(42);
    long min = Long.MAX_VALUE;
    long max = 0;
    for (int i = 0; i < 2_000; i++) {
      long wait = policy.backoff(3, random).toMillis();
      assertThat(wait).isBetween(0L, 400L);
      min = Math.min(min, wait);
      max = Math.max(max, wait);
    }
    assertThat(min).isLessThan(40);
    assertThat(max).isGreaterThan(360);
  }
}
