package dev.shepherd.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.shepherd.messaging.PublishException;
import dev.shepherd.model.StatusEvent;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class AttemptTest {

  private static final Instant NOW = Instant.parse("2026-01-02T03:04:05Z");
  private static final Claim CLAIM = new Claim("07-abc", "site.generate", 2, 41L, "worker-1");

  private final List<StatusEvent> published = new CopyOnWriteArrayList<>();
  private final List<String> timedPhases = new ArrayList<>();
  private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor();

  @AfterEach
  void stopTimer() {
    timer.shutdownNow();
  }

  /** A handler blocked until interrupted, on its own thread; its interrupt's time, once it came. */
  private record Blocked(Thread thread, CountDownLatch interrupted, AtomicLong interruptedAt) {}

  private static Blocked blockedHandler(Attempt<?> attempt) throws InterruptedException {
    var attached = new CountDownLatch(1);
    var interrupted = new CountDownLatch(1);
    var at = new AtomicLong();
    Thread thread =
        Thread.ofPlatform()
            .start(
                () -> {
                  attempt.attach(Thread.currentThread());
                  attached.countDown();
                  try {
                    new CountDownLatch(1).await();
                  } catch (InterruptedException e) {
                    at.set(System.nanoTime());
                    interrupted.countDown();
                  } finally {
                    attempt.detach();
                  }
                });
    assertThat(attached.await(5, TimeUnit.SECONDS)).isTrue();
    return new Blocked(thread, interrupted, at);
  }

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
  void aCancelByRequestIsSeenAtOnceAndInterruptsTheHandlerOnlyWhenTheGraceEnds() throws Exception {
    var attempt = attempt();
    Blocked handler = blockedHandler(attempt);
    Duration grace = Duration.ofMillis(400);

    long cancelledAt = System.nanoTime();
    assertThat(attempt.cancelGracefully("cancelled by alice: typo", grace, timer)).isTrue();

    assertThat(attempt.isCancelled()).isTrue();
    assertThat(attempt.cancellationReason()).contains("cancelled by alice: typo");
    assertThat(handler.interrupted().await(5, TimeUnit.SECONDS)).isTrue();
    assertThat(Duration.ofNanos(handler.interruptedAt().get() - cancelledAt)).isGreaterThan(grace);
  }

  @Test
  void aLostLeaseWithinTheGraceOfACancelByRequestDoesNotCutTheGraceShort() throws Exception {
    var attempt = attempt();
    Blocked handler = blockedHandler(attempt);
    Duration grace = Duration.ofMillis(400);
    long cancelledAt = System.nanoTime();
    attempt.cancelGracefully("cancelled by alice", grace, timer);

    assertThat(attempt.cancel("its lease was lost")).isFalse(); // the renewal refused, as it will

    assertThat(handler.interrupted().await(5, TimeUnit.SECONDS)).isTrue();
    assertThat(Duration.ofNanos(handler.interruptedAt().get() - cancelledAt)).isGreaterThan(grace);
    assertThat(attempt.cancelledBecause()).isEqualTo("cancelled by alice");
  }

  @Test
  void aStopOfTheWorkerWithinTheGraceOfACancelByRequestInterruptsAtOnce() throws Exception {
    var attempt = attempt();
    Blocked handler = blockedHandler(attempt);
    attempt.cancelGracefully("cancelled by alice", Duration.ofMinutes(1), timer);

    attempt.cancelAtShutdown("the worker stopped past its grace period");

    assertThat(handler.interrupted().await(5, TimeUnit.SECONDS)).isTrue();
  }

  @Test
  void aZeroGraceInterruptsAtOnce() throws Exception {
    var attempt = attempt();
    Blocked handler = blockedHandler(attempt);

    attempt.cancelGracefully("cancelled by alice", Duration.ZERO, timer);

    assertThat(handler.interrupted().await(5, TimeUnit.SECONDS)).isTrue();
  }

  @Test
  void aCancelByRequestAfterALostLeaseKeepsTheFirstCancel() {
    var attempt = attempt();
    attempt.cancel("its lease was lost");

    assertThat(attempt.cancelGracefully("cancelled by alice", Duration.ofMinutes(1), timer))
        .isFalse();
    assertThat(attempt.cancelledBecause()).isEqualTo("its lease was lost");
  }

  @Test
  void theGracesEndInterruptsNothingOnceTheHandlerReturned() {
    // the slot's thread moves on to its next job: an interrupt meant for this one must not follow
    var attempt = attempt();
    Thread slot = Thread.currentThread();
    attempt.attach(slot);
    attempt.cancelGracefully("cancelled by alice", Duration.ofMillis(50), timer);
    attempt.detach();

    await()
        .during(Duration.ofMillis(300))
        .atMost(Duration.ofSeconds(2))
        .until(() -> !slot.isInterrupted());
    assertThat(Thread.interrupted()).isFalse();
  }

  @Test
  void aCancelByRequestBeforeTheHandlerStartsInterruptsItOnlyAfterTheGrace() throws Exception {
    var attempt = attempt();
    attempt.cancelGracefully("cancelled by alice", Duration.ofMinutes(1), timer);

    attempt.attach(Thread.currentThread());

    assertThat(Thread.currentThread().isInterrupted()).isFalse();
    attempt.detach();
  }

  @Test
  void aHeartbeatIsNumberedWithPhasesAndProgressAndCarriesItsDetailsAsJson() throws Exception {
    var attempt = attempt();
    attempt.progress(10, "started");
    attempt.heartbeat(Map.of("lastPage", 7));
    attempt.heartbeat();

    assertThat(published).extracting(StatusEvent::sequence).containsExactly(1L, 2L, 3L);
    assertThat(published.get(1))
        .isInstanceOfSatisfying(
            StatusEvent.Heartbeat.class,
            h -> {
              assertThat(h.details().get("lastPage").asInt()).isEqualTo(7);
              assertThat(h.at()).isEqualTo(NOW);
              assertThat(h.fencingToken()).isEqualTo(41L);
            });
    assertThat(published.get(2))
        .isInstanceOfSatisfying(StatusEvent.Heartbeat.class, h -> assertThat(h.details()).isNull());
  }

  @Test
  void heartbeatDetailsOver16KiBOfJsonAreRefusedAndNothingIsPublished() {
    var attempt = attempt();
    // 16 KiB of JSON exactly: the string and its two quotes
    String fits = "x".repeat(JobContext.MAX_HEARTBEAT_DETAILS_BYTES - 2);

    attempt.heartbeat(fits);
    assertThatThrownBy(() -> attempt.heartbeat(fits + "x"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("16 KiB");
    assertThatThrownBy(() -> attempt.heartbeat(Map.of("pages", List.of(fits))))
        .isInstanceOf(IllegalArgumentException.class);

    assertThat(published).singleElement().isInstanceOf(StatusEvent.Heartbeat.class);
  }

  @Test
  void aCancelledAttemptPublishesNoHeartbeat() {
    var attempt = attempt();
    attempt.cancel("its lease was lost");

    attempt.heartbeat(Map.of("lastPage", 1));

    assertThat(published).isEmpty();
  }

  @Test
  void theLastHeartbeatDetailsComeFromTheClaimAndAreNotChangedByThisAttempt() {
    var details = tools.jackson.databind.node.JsonNodeFactory.instance.objectNode();
    details.put("lastPage", 3);
    var attempt =
        new Attempt<>(
            CLAIM,
            "payload",
            Clock.fixed(NOW, ZoneOffset.UTC),
            published::add,
            (phase, took) -> {},
            details);

    attempt.heartbeat(Map.of("lastPage", 4));

    assertThat(attempt.lastHeartbeatDetails())
        .hasValueSatisfying(d -> assertThat(d.get("lastPage").asInt()).isEqualTo(3));
    assertThat(attempt().lastHeartbeatDetails()).isEmpty();
  }

  @Test
  void aTimedOutAttemptIsInterruptedAtOnceReportsNothingMoreButKeepsItsFailure() throws Exception {
    var attempt = attempt();
    Blocked handler = blockedHandler(attempt);

    assertThat(attempt.timeOut(new Failure("timeout:stall", true), "timed out: timeout:stall"))
        .isTrue();

    assertThat(handler.interrupted().await(5, TimeUnit.SECONDS)).isTrue();
    assertThat(attempt.isCancelled()).as("the handler is told to stop").isTrue();
    assertThat(attempt.isWithdrawn()).as("its outcome is still reported").isFalse();
    assertThat(attempt.timedOut()).hasValue(new Failure("timeout:stall", true));
    assertThat(attempt.cancellationReason()).hasValue("timed out: timeout:stall");
    attempt.progress(90, "late");
    attempt.heartbeat(Map.of("lastPage", 9));
    assertThat(published).isEmpty();
  }

  @Test
  void aCancelAfterATimeOutWithdrawsTheOutcomeAndATimeOutAfterACancelDoesNothing() {
    var timedOutFirst = attempt();
    timedOutFirst.timeOut(new Failure("timeout:stall", true), "timed out");
    timedOutFirst.cancel("abandoned by timeout:stall");
    assertThat(timedOutFirst.isWithdrawn()).isTrue();
    assertThat(timedOutFirst.cancellationReason()).hasValue("abandoned by timeout:stall");

    var cancelledFirst = attempt();
    cancelledFirst.cancel("cancelled by alice");
    assertThat(cancelledFirst.timeOut(new Failure("timeout:stall", true), "timed out")).isFalse();
    assertThat(cancelledFirst.timedOut()).isEmpty();
  }

  @Test
  void nothingTimesOutAnAttemptWhoseHandlerReturned() {
    var attempt = attempt();
    attempt.attach(Thread.currentThread());
    attempt.detach();

    assertThat(attempt.timeOut(new Failure("timeout:stall", true), "timed out")).isFalse();
    assertThat(attempt.isCancelled()).isFalse();
    assertThat(Thread.currentThread().isInterrupted()).isFalse();
  }

  @Test
  void aPhaseNeedsAName() {
    assertThatThrownBy(() -> attempt().phase(" ", () -> {}))
        .isInstanceOf(IllegalArgumentException.class);
    assertThat(published).isEmpty();
  }
}
