package dev.shepherd.messaging;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.lettuce.core.RedisCommandExecutionException;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.springframework.data.redis.RedisSystemException;

class InfrastructurePauseTest {

  private static final InfrastructurePause.Backoff FAST =
      new InfrastructurePause.Backoff(Duration.ofMillis(1), Duration.ofMillis(4));

  private final SimpleMeterRegistry meters = new SimpleMeterRegistry();
  private final AtomicBoolean stopping = new AtomicBoolean();
  private final InfrastructurePause pause =
      new InfrastructurePause("q", FAST, stopping::get, Clock.systemUTC(), meters);

  private static RuntimeException oom() {
    return new RedisSystemException(
        "Error in execution",
        new RedisCommandExecutionException("OOM command not allowed when used memory"));
  }

  @Test
  void theSameDeliveryIsProcessedAgainUntilRedisAnswers() {
    var runs = new AtomicInteger();
    var pausedMeanwhile = new AtomicInteger();
    boolean processed =
        pause.retry(
            oom(),
            () -> true,
            () -> {
              pausedMeanwhile.set(pause.pausedConsumers());
              if (runs.incrementAndGet() < 5) {
                throw oom();
              }
            });
    assertThat(processed).isTrue();
    assertThat(runs).hasValue(5);
    assertThat(pausedMeanwhile).hasValue(1);
    assertThat(pause.pausedConsumers()).isZero();
    assertThat(meters.counter("shepherd.infrastructure.retries", "queue", "q").count())
        .isEqualTo(5);
  }

  @Test
  void aBugIsThrownBackAtOnceAndABugDuringTheRetriesToo() {
    var bug = new IllegalStateException("the script answered nonsense");
    var runs = new AtomicInteger();
    assertThatThrownBy(() -> pause.retry(bug, () -> true, runs::incrementAndGet)).isSameAs(bug);
    assertThat(runs).hasValue(0);

    assertThatThrownBy(
            () ->
                pause.retry(
                    oom(),
                    () -> true,
                    () -> {
                      throw bug;
                    }))
        .isSameAs(bug);
    assertThat(pause.pausedConsumers()).isZero();
  }

  @Test
  void aStoppingConsumerOrALostDeliveryEndsTheWait() {
    var runs = new AtomicInteger();
    boolean processed =
        pause.retry(
            oom(),
            () -> true,
            () -> {
              if (runs.incrementAndGet() == 3) {
                stopping.set(true);
              }
              throw oom();
            });
    assertThat(processed).isFalse();
    assertThat(runs).hasValue(3);

    stopping.set(false);
    assertThat(pause.retry(oom(), () -> false, runs::incrementAndGet)).isFalse();
    assertThat(runs).hasValue(3);
    assertThat(pause.pausedConsumers()).isZero();
  }

  @Test
  void theBackoffDoublesUpToItsCap() {
    var backoff = new InfrastructurePause.Backoff(Duration.ofMillis(100), Duration.ofSeconds(5));
    assertThat(backoff.before(1)).isEqualTo(Duration.ofMillis(100));
    assertThat(backoff.before(2)).isEqualTo(Duration.ofMillis(200));
    assertThat(backoff.before(6)).isEqualTo(Duration.ofMillis(3200));
    assertThat(backoff.before(7)).isEqualTo(Duration.ofSeconds(5));
    assertThat(backoff.before(1000)).isEqualTo(Duration.ofSeconds(5));
  }
}
