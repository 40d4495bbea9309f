package dev.shepherd.worker;

import static org.assertj.core.api.Assertions.assertThat;

import dev.shepherd.messaging.PublishException;
import dev.shepherd.model.StatusEvent;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class OutcomePublisherTest {

  private static final StatusEvent SUCCEEDED =
      new StatusEvent.Succeeded("07-a", "demo.noop", 1, 9L, 4L, "w", Instant.EPOCH);

  private final List<Duration> pauses = new ArrayList<>();
  private final List<StatusEvent> published = new ArrayList<>();

  private OutcomePublisher failingFirst(int failures) {
    AtomicInteger calls = new AtomicInteger();
    return new OutcomePublisher(
        event -> {
          if (calls.incrementAndGet() <= failures) {
            throw new PublishException("no confirm");
          }
          published.add(event);
        },
        5,
        Duration.ofMillis(250),
        Duration.ofSeconds(1),
        pauses::add);
  }

  @Test
  void aBrokerHiccupIsRetriedWithTheSameEventAfterADoublingBackoff() {
    assertThat(failingFirst(2).publish(SUCCEEDED, () -> true)).isTrue();

    assertThat(published).containsExactly(SUCCEEDED);
    assertThat(pauses).containsExactly(Duration.ofMillis(250), Duration.ofMillis(500));
  }

  @Test
  void itGivesUpAfterItsTriesWithTheBackoffCapped() {
    assertThat(failingFirst(Integer.MAX_VALUE).publish(SUCCEEDED, () -> true)).isFalse();

    assertThat(published).isEmpty();
    assertThat(pauses)
        .containsExactly(
            Duration.ofMillis(250),
            Duration.ofMillis(500),
            Duration.ofSeconds(1),
            Duration.ofSeconds(1));
  }

  @Test
  void itStopsTryingOnceTheLeaseIsLost() {
    AtomicInteger checks = new AtomicInteger();

    boolean published =
        failingFirst(Integer.MAX_VALUE).publish(SUCCEEDED, () -> checks.incrementAndGet() < 2);

    assertThat(published).isFalse();
    assertThat(pauses).hasSize(1);
  }

  @Test
  void aLostLeaseBeforeTheFirstTryPublishesNothing() {
    assertThat(failingFirst(0).publish(SUCCEEDED, () -> false)).isFalse();
    assertThat(published).isEmpty();
  }
}
