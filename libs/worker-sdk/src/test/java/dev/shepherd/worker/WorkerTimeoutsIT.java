package dev.shepherd.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.shepherd.model.JobState;
import dev.shepherd.model.JobTimeouts;
import dev.shepherd.model.MetricNames;
import dev.shepherd.model.StatusEvent;
import dev.shepherd.model.WorkMessage;
import dev.shepherd.testsupport.WithRealServices;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/**
 * The worker keeps its attempts' timeouts itself (issue 13): past its stall, startToClose or a
 * phase's limit a handler is interrupted at once and the attempt ends FAILED {@code
 * timeout:<name>}, retryable. No recovery service runs here: whatever times an attempt out is the
 * worker. A handler that heartbeats is not stalled, and its heartbeat details reach the next
 * attempt.
 */
@WithRealServices
class WorkerTimeoutsIT extends WorkerRuntimeFixture {

  private static final Duration LEASE = Duration.ofSeconds(30);

  /** Sleeps until interrupted; the interrupt propagates, as it would from most blocking calls. */
  private static JobHandler<JsonNode> hangs(
      String type, AtomicBoolean interrupted, AtomicReference<String> reason) {
    return handler(
        type,
        job -> {
          try {
            Thread.sleep(
                Duration.ofHours(1)); // the hung handler under test: only a timeout ends it
          } catch (InterruptedException e) {
            interrupted.set(true);
            reason.set(job.cancellationReason().orElse(null));
            throw e;
          }
        });
  }

  @Test
  void aHandlerThatHangsPastItsStallIsInterruptedByTheWorkerAndTheJobWaitsToRetryAsTimeoutStall() {
    var interrupted = new AtomicBoolean();
    var reason = new AtomicReference<String>();
    start(1, LEASE, hangs("test.block", interrupted, reason));

    long dispatchedAt = System.nanoTime();
    WorkMessage work = dispatch("test.block", 3, new JobTimeouts(null, Duration.ofSeconds(1)));

    List<Received> events = awaitEvents(work.jobId(), this::hasOutcome);
    assertThat(Duration.ofNanos(System.nanoTime() - dispatchedAt))
        .isGreaterThanOrEqualTo(Duration.ofSeconds(1));
    assertThat(interrupted).isTrue();
    assertThat(reason.get()).startsWith("timed out: timeout:stall");
    assertThat(events)
        .singleElement()
        .extracting(Received::event)
        .isEqualTo(failed(events, "timeout:stall", true)); // not the InterruptedException
    events.forEach(
        r -> store.reports().report(r.event(), Duration.ofMinutes(1))); // as the tracker does
    var job = store.queries().find(work.jobId()).orElseThrow();
    assertThat(job.state()).isEqualTo(JobState.RETRY_WAIT);
    assertThat(job.lastError()).isEqualTo("timeout:stall");
    // counted just after the attempt is stopped, which its outcome may beat
    await().atMost(WAIT).until(() -> timedOut("test.block", "stall") == 1.0);
    assertThat(meters.find(MetricNames.ATTEMPTS_CANCELLED).counters()).isEmpty();
  }

  @Test
  void aHandlerThatHeartbeatsMoreOftenThanItsStallRunsPastItAndSucceeds() {
    // 20 beats 200 ms apart: twice the stall in all. A count of beats, not a time: on a loaded
    // machine a "beat for 3 s" loop once fitted 8 beats where the test wanted 9, and only a gap of
    // more than the whole stall between two beats may fail it
    Duration stall = Duration.ofSeconds(2);
    int beatsToSend = 20;
    var beats = new AtomicInteger();
    var ran = new AtomicLong();
    start(
        1,
        LEASE,
        handler(
            "test.slow",
            job -> {
              long began = System.nanoTime();
              while (beats.get() < beatsToSend) {
                job.heartbeat(Map.of("beat", beats.incrementAndGet()));
                Thread.sleep(200); // the handler's work between heartbeats
              }
              ran.set(System.nanoTime() - began);
            }));

    WorkMessage work = dispatch("test.slow", 3, new JobTimeouts(null, stall));

    List<Received> events = awaitEvents(work.jobId(), this::hasOutcome);
    assertThat(events.getLast().event()).isInstanceOf(StatusEvent.Succeeded.class);
    assertThat(Duration.ofNanos(ran.get())).as("ran past its stall").isGreaterThan(stall);
    assertThat(events)
        .filteredOn(r -> r.event() instanceof StatusEvent.Heartbeat)
        .hasSize(beatsToSend);
    events.forEach(r -> store.reports().report(r.event(), Duration.ofMinutes(1)));
    assertThat(store.queries().find(work.jobId()).orElseThrow().state())
        .isEqualTo(JobState.SUCCEEDED);
    assertThat(meters.find(MetricNames.WORKER_ATTEMPTS_TIMED_OUT).counters()).isEmpty();
  }

  @Test
  void aPhaseOverItsLimitFailsAsTimeoutPhaseAndALastAttemptGoesDead() {
    var interrupted = new AtomicBoolean();
    start(
        1,
        LEASE,
        handler(
            "test.phases",
            job -> {
              job.phase("fetch", () -> {}); // no limit of its own
              job.phase(
                  "render",
                  () -> {
                    try {
                      Thread.sleep(Duration.ofHours(1)); // a phase that hangs: the fault under test
                    } catch (InterruptedException e) {
                      interrupted.set(true);
                      throw e;
                    }
                  });
            }));

    WorkMessage work =
        dispatch(
            "test.phases",
            1,
            new JobTimeouts(null, Duration.ofSeconds(30), Map.of("render", Duration.ofSeconds(1))));

    List<Received> events = awaitEvents(work.jobId(), this::hasOutcome);
    assertThat(interrupted).isTrue();
    assertThat(events)
        .extracting(r -> r.event().eventName())
        .containsExactly("PHASE_STARTED", "PHASE_ENDED", "PHASE_STARTED", "FAILED");
    assertFailedAs(events, "timeout:phase:render");
    events.forEach(r -> store.reports().report(r.event(), Duration.ofMinutes(1)));
    var job = store.queries().find(work.jobId()).orElseThrow();
    assertThat(job.state()).isEqualTo(JobState.DEAD);
    assertThat(job.lastError()).isEqualTo("timeout:phase:render");
    // counted just after the attempt is stopped, which its outcome may beat
    await().atMost(WAIT).until(() -> timedOut("test.phases", "phase") == 1.0);
  }

  @Test
  void startToCloseEndsAnAttemptThatKeepsReportingEvenWhenItsHandlerIgnoresTheInterrupt() {
    var interrupted = new AtomicBoolean();
    var returnedNormally = new AtomicBoolean();
    var progressCalls = new AtomicInteger();
    start(
        1,
        LEASE,
        handler(
            "test.fail",
            job -> {
              long until = System.nanoTime() + Duration.ofMillis(2_500).toNanos();
              while (System.nanoTime() < until) {
                job.progress(progressCalls.incrementAndGet(), "working");
                try {
                  Thread.sleep(200); // the handler's work between reports, not a wait for a result
                } catch (InterruptedException e) {
                  interrupted.set(true); // swallowed: this handler carries on regardless
                }
              }
              returnedNormally.set(true); // SUCCEEDED, had it not timed out
            }));

    WorkMessage work =
        dispatch(
            "test.fail",
            3,
            new JobTimeouts(Duration.ofMillis(1_500), Duration.ofSeconds(1))); // stall never hit

    List<Received> events = awaitEvents(work.jobId(), this::hasOutcome);
    assertThat(interrupted).isTrue();
    assertThat(returnedNormally).isTrue();
    assertFailedAs(events, "timeout:startToClose");
    assertThat(events)
        .as("progress after the time-out is not published")
        .filteredOn(r -> r.event() instanceof StatusEvent.Progress)
        .hasSizeLessThan(progressCalls.get());
    events.forEach(r -> store.reports().report(r.event(), Duration.ofMinutes(1)));
    var job = store.queries().find(work.jobId()).orElseThrow();
    assertThat(job.state()).isEqualTo(JobState.RETRY_WAIT);
    assertThat(job.lastError()).isEqualTo("timeout:startToClose");
    // counted just after the attempt is stopped, which its outcome may beat
    await().atMost(WAIT).until(() -> timedOut("test.fail", "startToClose") == 1.0);
  }

  @Test
  void theDetailsOfTheFirstAttemptsLastHeartbeatAreSeenByTheSecondAttempt() {
    Map<Integer, Optional<JsonNode>> seen = new ConcurrentHashMap<>();
    var firstToken = new AtomicLong();
    start(
        1,
        LEASE,
        handler(
            "test.typed",
            job -> {
              seen.put(job.attempt(), job.lastHeartbeatDetails());
              if (job.attempt() == 1) {
                firstToken.set(job.fencingToken());
                job.heartbeat(Map.of("lastPage", 2));
                job.heartbeat(Map.of("lastPage", 3));
                throw new RetryableJobException("the site went away after page 3");
              }
              job.heartbeat(Map.of("lastPage", 9)); // this attempt's own: not what it reads
            }));

    WorkMessage work = dispatch("test.typed", 3, JobTimeouts.NONE);
    List<Received> first = awaitEvents(work.jobId(), this::hasOutcome);
    first.forEach(r -> store.reports().report(r.event(), Duration.ZERO)); // RETRY_WAIT, due at once
    await().atMost(WAIT).ignoreExceptions().until(() -> publishDue(work.jobId()) != null);

    awaitEvents(
        work.jobId(), es -> es.stream().anyMatch(r -> r.event() instanceof StatusEvent.Succeeded));
    assertThat(seen.get(1)).isEmpty();
    assertThat(seen.get(2))
        .hasValueSatisfying(d -> assertThat(d.get("lastPage").asInt()).isEqualTo(3));
  }

  @Test
  void heartbeatDetailsOver16KiBAreRefusedAndTheJobGoesOn() {
    var refusal = new AtomicReference<String>();
    start(
        1,
        LEASE,
        handler(
            "test.typed",
            job -> {
              try {
                job.heartbeat(Map.of("page", "x".repeat(17 * 1024)));
              } catch (IllegalArgumentException e) {
                refusal.set(e.getMessage());
              }
              job.heartbeat(Map.of("lastPage", 1));
            }));

    WorkMessage work = dispatch("test.typed", 3, JobTimeouts.NONE);

    List<Received> events = awaitEvents(work.jobId(), this::hasOutcome);
    assertThat(refusal.get()).contains("16 KiB");
    assertThat(events)
        .extracting(r -> r.event().eventName())
        .containsExactly("HEARTBEAT", "SUCCEEDED");
    assertThat(events.getFirst().event())
        .isInstanceOfSatisfying(
            StatusEvent.Heartbeat.class,
            h -> assertThat(h.details().get("lastPage").asInt()).isEqualTo(1));
  }

  /**
   * The attempt's outcome is the time-out, retryable. (Its sequence number may skip: the reports a
   * handler makes after the time-out are numbered, not published.)
   */
  private static void assertFailedAs(List<Received> events, String error) {
    assertThat(events.getLast().event())
        .isInstanceOfSatisfying(
            StatusEvent.Failed.class,
            f -> {
              assertThat(f.error()).isEqualTo(error);
              assertThat(f.retryable()).isTrue();
            });
  }

  private double timedOut(String type, String timeout) {
    var counter =
        meters
            .find(MetricNames.WORKER_ATTEMPTS_TIMED_OUT)
            .tag(MetricNames.TAG_TYPE, type)
            .tag(MetricNames.TAG_TIMEOUT, timeout)
            .counter();
    return counter == null ? 0 : counter.count();
  }
}
