package dev.shepherd.store;

import static org.assertj.core.api.Assertions.assertThat;

import dev.shepherd.model.JobEvent;
import dev.shepherd.model.JobState;
import dev.shepherd.model.JobTimeouts;
import dev.shepherd.model.JobView;
import dev.shepherd.model.StatusEvent;
import dev.shepherd.model.TransitionRecord;
import dev.shepherd.store.TimedOutAttempt.Timeout;
import dev.shepherd.testsupport.ServiceEndpoints;
import dev.shepherd.testsupport.SettableClock;
import dev.shepherd.testsupport.TestNames;
import dev.shepherd.testsupport.WithRealServices;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.data.redis.core.StringRedisTemplate;

/**
 * The startToClose and stall timeouts of running attempts (timeout.lua, ADR 18), on a settable
 * clock: an attempt past either ends as a retryable failure naming it, and nothing else is touched.
 * The lease TTL (30 s) is far above the timeouts, so the lease reaper is never the one that acts.
 */
@WithRealServices
class AttemptTimeoutsIT {

  private static final Duration TTL = StoreFixture.TTL;
  private static final Duration NO_BACKOFF = Duration.ZERO;

  private StoreFixture fixture;
  private SettableClock clock;
  private StringRedisTemplate redis;
  private Store store;

  @BeforeEach
  void connect(ServiceEndpoints endpoints, TestNames names) {
    fixture = new StoreFixture(endpoints, names);
    clock = fixture.clock;
    redis = fixture.redis;
    store = fixture.store;
  }

  @AfterEach
  void cleanUp() {
    fixture.close();
  }

  /** A job with these timeouts, dispatched and claimed by {@code w1}; returns its id. */
  private String running(int maxAttempts, Duration startToClose, Duration stall) {
    return fixture.claimed(maxAttempts, new JobTimeouts(startToClose, stall), "w1");
  }

  private long claim(String id, int attempt, String worker) {
    return fixture.claim(id, attempt, worker);
  }

  private long token(String id) {
    return fixture.token(id);
  }

  private String base(String id) {
    return fixture.base(id);
  }

  private List<TimedOutAttempt> pass(String id) {
    return store.leaseRecovery().timeOutAttempts(store.keys().partitionOf(id), 100, NO_BACKOFF);
  }

  private Long timeoutsPending(String id) {
    return redis.opsForZSet().zCard(base(id) + "timeouts");
  }

  private ReportResult.Outcome progress(String id, long seq) {
    return store
        .reports()
        .report(
            new StatusEvent.Progress(
                id, "demo.noop", 1, token(id), seq, "w1", clock.instant(), 10, "moving"),
            NO_BACKOFF)
        .outcome();
  }

  private JobView view(String id) {
    return fixture.view(id);
  }

  @Test
  void anAttemptThatReportsNothingForItsStallTimeoutIsEndedAndItsLateOutcomeRefused() {
    String id = running(3, null, Duration.ofSeconds(5));
    long token = token(id);
    clock.advance(Duration.ofSeconds(4));
    assertThat(pass(id)).isEmpty();

    clock.advance(Duration.ofSeconds(2));
    assertThat(pass(id))
        .singleElement()
        .satisfies(
            t -> {
              assertThat(t.timeout()).isEqualTo(Timeout.STALL);
              assertThat(t.attempt()).isEqualTo(1);
              assertThat(t.workerId()).isEqualTo("w1");
              assertThat(t.newState()).isEqualTo(JobState.RETRY_WAIT);
              assertThat(t.type()).isEqualTo("demo.noop");
              assertThat(t.fencingToken()).isEqualTo(token);
            });

    JobView job = view(id);
    assertThat(job.state()).isEqualTo(JobState.RETRY_WAIT);
    assertThat(job.attempt()).isEqualTo(2);
    assertThat(job.lastError()).isEqualTo("timeout:stall");
    TransitionRecord line = job.history().getLast();
    assertThat(line.event()).isEqualTo(JobEvent.FAIL_RETRYABLE);
    assertThat(line.reason()).isEqualTo("timeout:stall");
    assertThat(line.attempt()).isEqualTo(1);
    assertThat(line.fencingToken()).isEqualTo(token);
    assertThat(line.workerId()).isEqualTo("w1");
    assertThat(redis.hasKey(base(id) + "lease:" + id)).isFalse();
    assertThat(store.queries().leasesHeld()).isZero();
    assertThat(timeoutsPending(id)).isZero();

    assertThat(store.leases().renew(id, token, TTL)).isFalse();
    var late = new StatusEvent.Succeeded(id, "demo.noop", 1, token, 1, "w1", clock.instant());
    assertThat(store.reports().report(late, NO_BACKOFF).outcome())
        .isNotEqualTo(ReportResult.Outcome.APPLIED);
    assertThat(view(id).state()).isEqualTo(JobState.RETRY_WAIT);
  }

  @Test
  void aProgressReportStartsTheStallTimeoutAgain() {
    String id = running(3, null, Duration.ofSeconds(5));
    clock.advance(Duration.ofSeconds(4));
    assertThat(progress(id, 1)).isEqualTo(ReportResult.Outcome.APPLIED);

    clock.advance(Duration.ofSeconds(2)); // 6 s after the claim, 2 s after the report
    assertThat(pass(id)).isEmpty();
    assertThat(view(id).state()).isEqualTo(JobState.RUNNING);
    clock.advance(Duration.ofMillis(2_999)); // just before 5 s after the report
    assertThat(pass(id)).isEmpty();

    clock.advance(Duration.ofSeconds(1)); // 6 s after the report
    assertThat(pass(id)).extracting(TimedOutAttempt::timeout).containsExactly(Timeout.STALL);
    assertThat(view(id).state()).isEqualTo(JobState.RETRY_WAIT);
  }

  @Test
  void startToCloseEndsAnAttemptDespiteSteadyProgress() {
    String id = running(3, Duration.ofSeconds(10), Duration.ofSeconds(5));
    for (int seq = 1; seq <= 4; seq++) {
      clock.advance(Duration.ofSeconds(2));
      assertThat(progress(id, seq)).isEqualTo(ReportResult.Outcome.APPLIED);
      assertThat(pass(id)).isEmpty();
    }
    clock.advance(Duration.ofSeconds(2)); // 10 s after the claim, 2 s after the last report
    assertThat(pass(id))
        .extracting(TimedOutAttempt::timeout)
        .containsExactly(Timeout.START_TO_CLOSE);
    JobView job = view(id);
    assertThat(job.state()).isEqualTo(JobState.RETRY_WAIT);
    assertThat(job.history().getLast().reason()).isEqualTo("timeout:startToClose");
  }

  @Test
  void aTimedOutLastAttemptIsDeadWithARecordNamingTheTimeout() {
    String id = running(2, Duration.ofSeconds(3), null);
    clock.advance(Duration.ofSeconds(3));
    assertThat(pass(id))
        .singleElement()
        .extracting(TimedOutAttempt::newState)
        .isEqualTo(JobState.RETRY_WAIT);

    int partition = store.keys().partitionOf(id);
    DueEntry second = store.outbox().reserveDue(partition, 100, TTL).getFirst();
    assertThat(second.attempt()).isEqualTo(2);
    store.outbox().markDispatched(partition, List.of(second));
    claim(id, 2, "w2");
    clock.advance(Duration.ofSeconds(3));
    assertThat(pass(id))
        .singleElement()
        .satisfies(
            t -> {
              assertThat(t.newState()).isEqualTo(JobState.DEAD);
              assertThat(t.attempt()).isEqualTo(2);
              assertThat(t.workerId()).isEqualTo("w2");
            });

    JobView job = view(id);
    assertThat(job.state()).isEqualTo(JobState.DEAD);
    assertThat(job.history())
        .filteredOn(h -> h.reason() != null && h.reason().equals("timeout:startToClose"))
        .extracting(TransitionRecord::event, TransitionRecord::attempt)
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple(JobEvent.FAIL_RETRYABLE, 1),
            org.assertj.core.groups.Tuple.tuple(JobEvent.ATTEMPTS_EXHAUSTED, 2));
    assertThat(store.deadJobs().findDead(id).orElseThrow().reason())
        .isEqualTo("attempts exhausted (2): timeout:startToClose");
    assertThat(timeoutsPending(id)).isZero();
  }

  @Test
  void aJobWithoutTimeoutsIsNeverTouched() {
    String id = running(3, null, null);
    assertThat(timeoutsPending(id)).isZero();
    assertThat(progress(id, 1)).isEqualTo(ReportResult.Outcome.APPLIED);
    clock.advance(Duration.ofDays(1));
    assertThat(pass(id)).isEmpty();
    assertThat(view(id).state()).isEqualTo(JobState.RUNNING);
    assertThat(redis.opsForHash().keys(base(id) + "job:" + id))
        .doesNotContain("startToCloseMs", "stallMs", "lastReportAt");
  }

  @Test
  void aJobThatFinishedBeforeItsDeadlineLeavesNothingBehind() {
    String id = running(3, Duration.ofSeconds(10), Duration.ofSeconds(5));
    assertThat(timeoutsPending(id)).isEqualTo(1);
    clock.advance(Duration.ofSeconds(1));
    var done = new StatusEvent.Succeeded(id, "demo.noop", 1, token(id), 1, "w1", clock.instant());
    assertThat(store.reports().report(done, NO_BACKOFF).state()).isEqualTo("SUCCEEDED");
    assertThat(timeoutsPending(id)).isZero();
    clock.advance(Duration.ofSeconds(30));
    assertThat(pass(id)).isEmpty();
    assertThat(view(id).state()).isEqualTo(JobState.SUCCEEDED);
  }

  @Test
  void anAttemptWhoseLeaseWasTakenAwayLeavesNothingBehind() {
    String id = running(3, null, Duration.ofSeconds(5));
    assertThat(store.leaseRecovery().abandon(id, "w1", "over capacity")).isPresent();
    assertThat(timeoutsPending(id)).isZero();
  }

  @Test
  void anAttemptWhoseOutcomeIsPublishedAndWaitsForTheTrackerIsLeftToItsLease() {
    String id = running(3, null, Duration.ofSeconds(5));
    long token = token(id);
    clock.advance(Duration.ofSeconds(2));
    assertThat(store.leases().holdForOutcome(id, token, TTL)).isTrue();
    clock.advance(Duration.ofSeconds(10));
    // the worker renews its hold while the tracker lags: the mark moves past the stall deadline
    assertThat(store.leases().holdForOutcome(id, token, TTL)).isTrue();
    assertThat(pass(id)).isEmpty();
    assertThat(view(id).state()).isEqualTo(JobState.RUNNING);
    assertThat(timeoutsPending(id)).isZero();
    var done = new StatusEvent.Succeeded(id, "demo.noop", 1, token, 1, "w1", clock.instant());
    assertThat(store.reports().report(done, NO_BACKOFF).state()).isEqualTo("SUCCEEDED");
  }

  private ReportResult.Outcome phase(String id, long seq, String name, boolean start) {
    StatusEvent event =
        start
            ? new StatusEvent.PhaseStarted(
                id, "demo.noop", 1, token(id), seq, "w1", clock.instant(), name)
            : new StatusEvent.PhaseEnded(
                id, "demo.noop", 1, token(id), seq, "w1", clock.instant(), name);
    return store.reports().report(event, NO_BACKOFF).outcome();
  }

  /** A job with only phase limits, dispatched and claimed by {@code w1}. */
  private String runningWithPhaseLimits(Map<String, Duration> limits) {
    return fixture.claimed(3, new JobTimeouts(null, null, limits), "w1");
  }

  @Test
  void aPhaseOverItsOwnLimitEndsTheAttemptNamingThePhase() {
    String id = runningWithPhaseLimits(Map.of("render", Duration.ofSeconds(5)));
    long token = token(id);
    assertThat(timeoutsPending(id)).as("no limited phase runs yet").isZero();

    assertThat(phase(id, 1, "download", true)).isEqualTo(ReportResult.Outcome.APPLIED);
    clock.advance(Duration.ofMinutes(10)); // an unlimited phase may take as long as it likes
    assertThat(phase(id, 2, "download", false)).isEqualTo(ReportResult.Outcome.APPLIED);
    assertThat(pass(id)).isEmpty();

    assertThat(phase(id, 3, "render", true)).isEqualTo(ReportResult.Outcome.APPLIED);
    assertThat(timeoutsPending(id)).isEqualTo(1);
    clock.advance(Duration.ofSeconds(4));
    assertThat(progress(id, 4)).isEqualTo(ReportResult.Outcome.APPLIED); // progress: no reprieve
    assertThat(pass(id)).isEmpty();
    clock.advance(Duration.ofSeconds(2));

    assertThat(pass(id))
        .singleElement()
        .satisfies(
            t -> {
              assertThat(t.timeout()).isEqualTo(Timeout.PHASE);
              assertThat(t.phase()).isEqualTo("render");
              assertThat(t.which()).isEqualTo("phase:render");
              assertThat(t.reason()).isEqualTo("timeout:phase:render");
              assertThat(t.fencingToken()).isEqualTo(token);
            });
    JobView job = view(id);
    assertThat(job.state()).isEqualTo(JobState.RETRY_WAIT);
    assertThat(job.lastError()).isEqualTo("timeout:phase:render");
    assertThat(job.history().getLast().reason()).isEqualTo("timeout:phase:render");
    assertThat(timeoutsPending(id)).isZero();
  }

  @Test
  void aLimitedPhaseThatEndsInTimeLeavesTheAttemptAloneAndTheNextAttemptStartsClean() {
    String id =
        runningWithPhaseLimits(
            Map.of("render", Duration.ofSeconds(5), "publish", Duration.ofSeconds(5)));

    phase(id, 1, "render", true);
    clock.advance(Duration.ofSeconds(4));
    phase(id, 2, "render", false);
    clock.advance(Duration.ofSeconds(2));
    assertThat(pass(id)).as("render ended in time").isEmpty();
    assertThat(timeoutsPending(id)).as("nothing bounds the attempt between phases").isZero();

    phase(id, 3, "publish", true);
    clock.advance(Duration.ofSeconds(6));
    assertThat(pass(id)).extracting(TimedOutAttempt::which).containsExactly("phase:publish");
  }

  @Test
  void aPhaseLimitEarlierThanTheStartToCloseDeadlineComesFirstAndALaterOneDoesNot() {
    String id =
        fixture.claimed(
            3,
            new JobTimeouts(Duration.ofSeconds(10), null, Map.of("render", Duration.ofSeconds(30))),
            "w1");

    phase(id, 1, "render", true);
    clock.advance(Duration.ofSeconds(11));
    assertThat(pass(id)).extracting(TimedOutAttempt::which).containsExactly("startToClose");
  }

  /** A job that waits at most {@code wait} QUEUED, dispatched (QUEUED) but not claimed. */
  private String queuedWaitingAtMost(Duration wait, boolean fail) {
    String id =
        fixture.dispatched(fixture.submitted(new JobTimeouts(null, null, Map.of(), wait, fail)));
    assertThat(view(id).state()).isEqualTo(JobState.QUEUED);
    return id;
  }

  @Test
  void aJobQueuedPastItsScheduleToStartIsPublishedAgainWithAFreshWait() {
    String id = queuedWaitingAtMost(Duration.ofSeconds(5), false);
    clock.advance(Duration.ofSeconds(4));
    assertThat(pass(id)).isEmpty();
    clock.advance(Duration.ofSeconds(2));

    assertThat(pass(id))
        .singleElement()
        .satisfies(
            t -> {
              assertThat(t.timeout()).isEqualTo(Timeout.SCHEDULE_TO_START);
              assertThat(t.newState()).isEqualTo(JobState.QUEUED);
              assertThat(t.workerId()).isNull();
            });
    assertThat(view(id).state()).isEqualTo(JobState.QUEUED);
    assertThat(store.outbox().reserveDue(store.keys().partitionOf(id), 100, TTL))
        .extracting(DueEntry::jobId)
        .containsExactly(id);
    clock.advance(Duration.ofSeconds(4));
    assertThat(pass(id)).as("the wait starts again when it is published again").isEmpty();
  }

  @Test
  void aJobQueuedPastItsScheduleToStartEndsDeadWhenItsTypeSaysFail() {
    String id = queuedWaitingAtMost(Duration.ofSeconds(5), true);
    clock.advance(Duration.ofSeconds(6));

    assertThat(pass(id)).extracting(TimedOutAttempt::newState).containsExactly(JobState.DEAD);
    JobView job = view(id);
    assertThat(job.state()).isEqualTo(JobState.DEAD);
    assertThat(job.lastError()).isEqualTo("timeout:scheduleToStart");
    assertThat(job.history().getLast().reason()).isEqualTo("timeout:scheduleToStart");
    assertThat(store.deadJobs().findDead(id))
        .hasValueSatisfying(d -> assertThat(d.reason()).isEqualTo("timeout:scheduleToStart"));
    assertThat(store.leases().claim(id, 1, "w1", TTL)).isInstanceOf(ClaimResult.Refused.class);
    assertThat(timeoutsPending(id)).isZero();
  }

  @Test
  void aJobClaimedInTimeLeavesItsWaitBehind() {
    String id = queuedWaitingAtMost(Duration.ofSeconds(5), true);
    assertThat(timeoutsPending(id)).isEqualTo(1);
    claim(id, 1, "w1");
    assertThat(timeoutsPending(id)).as("no running timeouts, no member").isZero();
    clock.advance(Duration.ofSeconds(60));
    assertThat(pass(id)).isEmpty();
    assertThat(view(id).state()).isEqualTo(JobState.RUNNING);
  }

  @Test
  void aHeartbeatProvesTheAttemptMovesAndItsDetailsGoToTheNextAttemptWithItsTimeouts() {
    String id = running(3, Duration.ofMinutes(10), Duration.ofSeconds(5));
    clock.advance(Duration.ofSeconds(4));
    var details = dev.shepherd.model.Json.mapper().createObjectNode().put("lastPage", 412);
    assertThat(
            store
                .reports()
                .report(
                    new StatusEvent.Heartbeat(
                        id, "demo.noop", 1, token(id), 1, "w1", clock.instant(), details),
                    NO_BACKOFF)
                .outcome())
        .isEqualTo(ReportResult.Outcome.APPLIED);
    clock.advance(Duration.ofSeconds(4));
    assertThat(pass(id)).as("the heartbeat restarted the stall clock").isEmpty();
    clock.advance(Duration.ofSeconds(2));
    assertThat(pass(id)).extracting(TimedOutAttempt::which).containsExactly("stall");

    int partition = store.keys().partitionOf(id);
    store.outbox().markDispatched(partition, store.outbox().reserveDue(partition, 100, TTL));
    assertThat(store.leases().claim(id, 2, "w2", TTL))
        .isInstanceOfSatisfying(
            ClaimResult.Claimed.class,
            c -> {
              assertThat(c.heartbeatDetails()).isEqualTo("{\"lastPage\":412}");
              assertThat(c.timeouts())
                  .isEqualTo(new JobTimeouts(Duration.ofMinutes(10), Duration.ofSeconds(5)));
            });
  }

  @Test
  void aClaimCarriesThePhaseLimitsAndNoDetailsWhenNoHeartbeatCame() {
    String id = runningWithPhaseLimits(Map.of("render", Duration.ofSeconds(5)));
    assertThat(
            store.leases().claim(id, 1, "w1", TTL)) // the same worker again: same token, same terms
        .isInstanceOfSatisfying(
            ClaimResult.Claimed.class,
            c -> {
              assertThat(c.heartbeatDetails()).isNull();
              assertThat(c.timeouts().phases())
                  .containsExactly(Map.entry("render", Duration.ofSeconds(5)));
              assertThat(c.timeouts().startToClose()).isNull();
            });
  }
}
