package dev.shepherd.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.shepherd.messaging.PublishException;
import dev.shepherd.model.StatusEvent;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

class AttemptTest {

  private static final Instant NOW = Instant.parse("2026-01-02T03:04:05Z");
  private static final Claim CLAIM = new Claim("07-abc", "site.generate", 2, 41L, "worker-1");

  private final List<StatusEvent> published = new CopyOnWriteArrayList<>();
  private final List<String> timedPhases = new ArrayList<>();

  private Attempt<String> attempt() {
    return new Attempt<>(
        CLAIM,
        "payload",
        Clock.fixed(NOW, ZoneOffset.UTC),
        published::add,
        (phase, took) -> timedPhases.add(phase));
  }

  @Test
  void sequenceNumbersRiseFromOneOverPhasesProgressAndTheOutcome() throws Exception {
    var attempt = attempt();
    String rendered = attempt.phase("render", () -> "page");
    attempt.progress(50, "half");
    attempt.phase("publish", () -> {});
    published.add(attempt.succeeded());

    assertThat(rendered).isEqualTo("page");
    assertThat(published)
        .extracting(StatusEvent::eventName)
        .containsExactly(
            "PHASE_STARTED",
            "PHASE_ENDED",
            "PROGRESS",
            "PHASE_STARTED",
            "PHASE_ENDED",
            "SUCCEEDED");
    assertThat(published).extracting(StatusEvent::sequence).containsExactly(1L, 2L, 3L, 4L, 5L, 6L);
    assertThat(timedPhases).containsExactly("render", "publish");
  }

  @Test
  void everyEventCarriesTheClaimAndTheClocksTime() throws Exception {
    var attempt = attempt();
    attempt.phase("render", () -> {});
    published.add(attempt.failed(new Failure("boom", true)));

    assertThat(published)
        .allSatisfy(
            e -> {
              assertThat(e.jobId()).isEqualTo("07-abc");
              assertThat(e.type()).isEqualTo("site.generate");
              assertThat(e.attempt()).isEqualTo(2);
              assertThat(e.fencingToken()).isEqualTo(41L);
              assertThat(e.workerId()).isEqualTo("worker-1");
              assertThat(e.at()).isEqualTo(NOW);
            });
    assertThat(published.get(0))
        .isInstanceOfSatisfying(
            StatusEvent.PhaseStarted.class, e -> assertThat(e.phase()).isEqualTo("render"));
    assertThat(published.get(2))
        .isInstanceOfSatisfying(
            StatusEvent.Failed.class,
            e -> {
              assertThat(e.error()).isEqualTo("boom");
              assertThat(e.retryable()).isTrue();
            });
  }

  @Test
  void aPhaseThatThrowsStillEndsAndTheExceptionPropagatesUnchanged() {
    var attempt = attempt();
    var failure = new IllegalStateException("download failed");

    assertThatThrownBy(
            () ->
                attempt.phase(
                    "download",
                    () -> {
                      throw failure;
                    }))
        .isSameAs(failure);
    assertThat(published)
        .extracting(StatusEvent::eventName)
        .containsExactly("PHASE_STARTED", "PHASE_ENDED");
  }

  @Test
  void progressIsClampedToZeroToHundred() {
    var attempt = attempt();
    attempt.progress(140, "over");
    attempt.progress(-3, "under");

    assertThat(published).map(e -> ((StatusEvent.Progress) e).percent()).containsExactly(100, 0);
  }

  @Test
  void aProgressReportTheBrokerRefusesDoesNotFailTheJob() {
    var attempt =
        new Attempt<>(
            CLAIM,
            "payload",
            Clock.fixed(NOW, ZoneOffset.UTC),
            e -> {
              throw new PublishException("no confirm");
            },
            (phase, took) -> {});

    attempt.progress(10, "still going");

    assertThat(attempt.isCancelled()).isFalse();
  }

  @Test
  void anOutcomeTheBrokerRefusesIsThrownSoItCanBeRetried() {
    var attempt =
        new Attempt<>(
            CLAIM,
            "payload",
            Clock.fixed(NOW, ZoneOffset.UTC),
            e -> {
              throw new PublishException("no confirm");
            },
            (phase, took) -> {});

    assertThatThrownBy(() -> attempt.publishOutcome(attempt.succeeded()))
        .isInstanceOf(PublishException.class);
  }

  @Test
  void aCancelledAttemptPublishesNothingMoreAndSaysSo() throws Exception {
    var attempt = attempt();
    attempt.phase("one", () -> {});
    attempt.cancel("its lease was lost");
    attempt.progress(50, "half");
    attempt.phase("two", () -> {});

    assertThat(attempt.isCancelled()).isTrue();
    assertThat(attempt.cancelledBecause()).isEqualTo("its lease was lost");
    assertThat(published)
        .extracting(StatusEvent::eventName)
        .containsExactly("PHASE_STARTED", "PHASE_ENDED");
  }

  @Test
  void cancellingInterruptsTheAttachedThreadAndDetachingClearsTheInterrupt() {
    var attempt = attempt();
    attempt.attach(Thread.currentThread());
    attempt.cancel("test");
    assertThat(Thread.currentThread().isInterrupted()).isTrue();

    attempt.detach();

    assertThat(Thread.currentThread().isInterrupted()).isFalse();
    attempt.cancel("test"); // after detach nothing is interrupted any more
    assertThat(Thread.currentThread().isInterrupted()).isFalse();
  }

  @Test
  void aPhaseNeedsAName() {
    assertThatThrownBy(() -> attempt().phase(" ", () -> {}))
        .isInstanceOf(IllegalArgumentException.class);
    assertThat(published).isEmpty();
  }
}
