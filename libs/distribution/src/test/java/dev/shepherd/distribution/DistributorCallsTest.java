package dev.shepherd.distribution;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.shepherd.testsupport.SettableClock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** Transient failures are retried up to the limit with a growing wait; nothing else is. */
class DistributorCallsTest {

  private static final Instant T0 = Instant.parse("2026-12-01T10:00:00Z");

  private final List<Duration> waits = new ArrayList<>();
  private final SettableClock clock = new SettableClock(T0);
  private final DistributorCalls calls =
      new DistributorCalls(
          4,
          Duration.ofMillis(100),
          Duration.ofMillis(250),
          Duration.ofSeconds(30),
          waits::add,
          clock);

  @Test
  void transientFailuresAreRetriedUntilACallSucceeds() {
    var made = new AtomicInteger();

    String answer =
        calls.call(
            "run",
            () -> {
              if (made.incrementAndGet() < 3) {
                throw new TransientDistributorException("503");
              }
              return "token";
            });

    assertThat(answer).isEqualTo("token");
    assertThat(made).hasValue(3);
    assertThat(waits).containsExactly(Duration.ofMillis(100), Duration.ofMillis(200));
  }

  @Test
  void transientRetriesStopAtTheLimitWithTheLastFailure() {
    var made = new AtomicInteger();

    assertThatThrownBy(
            () ->
                calls.call(
                    "run of 07-ab.2",
                    () -> {
                      throw new TransientDistributorException(
                          "503 number " + made.incrementAndGet());
                    }))
        .isInstanceOf(TransientDistributorException.class)
        .hasMessage("run of 07-ab.2 failed transiently 4 times, the last: 503 number 4")
        .hasCauseInstanceOf(TransientDistributorException.class);
    assertThat(made).hasValue(4);
    assertThat(waits)
        .as("doubling, capped at the maximum, none after the last call")
        .containsExactly(Duration.ofMillis(100), Duration.ofMillis(200), Duration.ofMillis(250));
  }

  @Test
  void aPermanentFailureIsRethrownAtOnce() {
    var made = new AtomicInteger();

    assertThatThrownBy(
            () ->
                calls.run(
                    "cancel",
                    () -> {
                      made.incrementAndGet();
                      throw new PermanentDistributorException("400: no such queue");
                    }))
        .isInstanceOf(PermanentDistributorException.class)
        .hasMessage("400: no such queue");
    assertThat(made).hasValue(1);
    assertThat(waits).isEmpty();
  }

  @Test
  void aBugIsNotRetried() {
    var made = new AtomicInteger();

    assertThatThrownBy(
            () ->
                calls.call(
                    "run",
                    () -> {
                      made.incrementAndGet();
                      throw new NullPointerException();
                    }))
        .isInstanceOf(NullPointerException.class);
    assertThat(made).hasValue(1);
  }

  @Test
  void aTaskTheBackendCannotFindIsMissingOnceItHadTimeToAppear() {
    var gone = failingStatus(new PermanentDistributorException("job shepherd-07-ab-2 not found"));
    var attempt = Fixtures.attempt(new DistributorConfig("gone", Map.of()));
    var token = new TaskToken("t");

    clock.advance(Duration.ofSeconds(29));
    assertThat(calls.status(gone, attempt, token, T0))
        .as("within the grace a task may not be visible yet")
        .isEqualTo(new TaskStatus.Pending());

    clock.advance(Duration.ofSeconds(1));
    assertThat(calls.status(gone, attempt, token, T0))
        .isEqualTo(new TaskStatus.Missing("job shepherd-07-ab-2 not found"));
  }

  @Test
  void aStatusThatKeepsFailingTransientlyIsNotTakenForMissing() {
    var flaky = failingStatus(new TransientDistributorException("timeout"));
    var attempt = Fixtures.attempt(new DistributorConfig("flaky", Map.of()));
    clock.advance(Duration.ofHours(1));

    assertThatThrownBy(() -> calls.status(flaky, attempt, new TaskToken("t"), T0))
        .isInstanceOf(TransientDistributorException.class);
  }

  @Test
  void theLimitsAreChecked() {
    assertThatThrownBy(
            () ->
                new DistributorCalls(
                    0, Duration.ZERO, Duration.ZERO, Duration.ZERO, waits::add, clock))
        .hasMessage("maxCalls must be at least 1, was 0");
  }

  private static Distributor failingStatus(RuntimeException failure) {
    Distributor base = Fixtures.named("failing");
    return new Distributor() {
      @Override
      public String name() {
        return base.name();
      }

      @Override
      public void validate(String type, DistributorConfig config) {}

      @Override
      public Started run(AttemptRequest attempt) {
        return base.run(attempt);
      }

      @Override
      public void cancel(AttemptRequest attempt, TaskToken token) {}

      @Override
      public TaskStatus status(AttemptRequest attempt, TaskToken token) {
        throw failure;
      }

      @Override
      public java.util.Optional<java.net.URI> infoUrl(AttemptRequest attempt, TaskToken token) {
        return java.util.Optional.empty();
      }

      @Override
      public List<dev.shepherd.model.StatusEvent> handleNotification(
          AttemptRequest attempt, TaskToken token, Notification notification) {
        return List.of();
      }
    };
  }
}
