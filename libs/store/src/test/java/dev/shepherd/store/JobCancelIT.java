package dev.shepherd.store;

import static org.assertj.core.api.Assertions.assertThat;

import dev.shepherd.model.JobEvent;
import dev.shepherd.model.JobState;
import dev.shepherd.model.JobTimeouts;
import dev.shepherd.model.JobView;
import dev.shepherd.model.StatusEvent;
import dev.shepherd.model.TransitionRecord;
import dev.shepherd.testsupport.ServiceEndpoints;
import dev.shepherd.testsupport.SettableClock;
import dev.shepherd.testsupport.TestNames;
import dev.shepherd.testsupport.WithRealServices;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.data.redis.core.StringRedisTemplate;

/**
 * Cancel (cancel.lua): any state that is not terminal becomes CANCELLED at once, with who and why;
 * a waiting job is never handed out again, a running attempt's renewals say CANCELLED and its
 * outcome is refused, and a terminal job is left alone.
 */
@WithRealServices
class JobCancelIT {

  private static final Duration TTL = StoreFixture.TTL;

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

  private String submitted(Duration startToClose) {
    return fixture.submitted(new JobTimeouts(startToClose, null));
  }

  private String queued() {
    return fixture.dispatched(submitted(null));
  }

  private long running(String id, String worker) {
    return fixture.claim(id, 1, worker);
  }

  private String base(String id) {
    return fixture.base(id);
  }

  private JobView view(String id) {
    return fixture.view(id);
  }

  private TransitionRecord last(String id) {
    return view(id).history().getLast();
  }

  @Test
  void aSubmittedJobIsCancelledAtOnceAndNeverHandedToTheDispatcher() {
    String id = submitted(null);

    CancelResult result = store.cancels().cancel(id, "ops", "not needed");

    assertThat(result.outcome()).isEqualTo(CancelResult.Outcome.CANCELLED);
    assertThat(result.previous()).isEqualTo(JobState.SUBMITTED);
    assertThat(result.wasRunning()).isFalse();
    assertThat(store.outbox().reserveDue(store.keys().partitionOf(id), 100, TTL)).isEmpty();
    JobView view = view(id);
    assertThat(view.state()).isEqualTo(JobState.CANCELLED);
    assertThat(view.cancelledBy()).isEqualTo("ops");
    assertThat(view.cancelledAt()).isEqualTo(clock.instant());
    assertThat(view.finishedAt()).isEqualTo(clock.instant());
    assertThat(last(id).event()).isEqualTo(JobEvent.CANCEL);
    assertThat(last(id).reason()).isEqualTo("cancelled by ops: not needed");
    assertThat(redis.opsForZSet().score(base(id) + "state:CANCELLED", id)).isNotNull();
    assertThat(redis.opsForZSet().score(base(id) + "state:SUBMITTED", id)).isNull();
  }

  @Test
  void aQueuedJobsWorkMessageIsRefusedAtClaim() {
    String id = queued();

    assertThat(store.cancels().cancel(id, "ops", null).previous()).isEqualTo(JobState.QUEUED);

    assertThat(store.leases().claim(id, 1, "w1", TTL))
        .isInstanceOfSatisfying(
            ClaimResult.Refused.class,
            r -> assertThat(r.state()).isEqualTo(JobState.CANCELLED.name()));
    assertThat(redis.hasKey(base(id) + "lease:" + id)).isFalse();
    assertThat(last(id).reason()).isEqualTo("cancelled by ops");
  }

  @Test
  void aRunningAttemptLosesItsLeaseItsRenewalsSayCancelledAndItsOutcomeIsRefused() {
    String id = submitted(Duration.ofMinutes(5));
    int partition = store.keys().partitionOf(id);
    store.outbox().markDispatched(partition, store.outbox().reserveDue(partition, 100, TTL));
    long token = running(id, "w1");
    assertThat(redis.opsForZSet().score(base(id) + "timeouts", id)).isNotNull();

    CancelResult result = store.cancels().cancel(id, "ops", "stop the flood");

    assertThat(result.wasRunning()).isTrue();
    assertThat(result.workerId()).isEqualTo("w1");
    assertThat(result.fencingToken()).isEqualTo(token);
    assertThat(result.type()).isEqualTo("demo.noop");
    assertThat(redis.hasKey(base(id) + "lease:" + id)).isFalse();
    assertThat(redis.opsForZSet().score(base(id) + "leases", id)).isNull();
    assertThat(redis.opsForZSet().score(base(id) + "timeouts", id)).isNull();
    assertThat(store.leases().renewLease(id, token, TTL)).isEqualTo(Leases.LeaseRenewal.CANCELLED);
    assertThat(store.leases().renew(id, token, TTL)).isFalse();

    ReportResult late =
        store
            .reports()
            .report(
                new StatusEvent.Succeeded(id, "demo.noop", 1, token, 5, "w1", clock.instant()),
                Duration.ZERO);
    assertThat(late.outcome()).isEqualTo(ReportResult.Outcome.FINISHED);
    assertThat(view(id).state()).isEqualTo(JobState.CANCELLED);
    assertThat(view(id).history())
        .extracting(TransitionRecord::to)
        .containsOnlyOnce(JobState.CANCELLED)
        .doesNotContain(JobState.SUCCEEDED);
  }

  @Test
  void aRenewalOfAnAttemptThatLostItsJobToAnotherIsLostNotCancelled() {
    String id = queued();
    long token = running(id, "w1");
    assertThat(store.leases().renewLease(id, token, TTL)).isEqualTo(Leases.LeaseRenewal.RENEWED);
    assertThat(store.leases().renewLease(id, token + 1, TTL)).isEqualTo(Leases.LeaseRenewal.LOST);
  }

  @Test
  void aJobWaitingToRetryIsCancelledAndItsRetryNeverDispatched() {
    String id = queued();
    long token = running(id, "w1");
    store
        .reports()
        .report(
            new StatusEvent.Failed(
                id, "demo.noop", 1, token, 1, "w1", clock.instant(), "upstream 503", true),
            Duration.ofMinutes(1));
    assertThat(view(id).state()).isEqualTo(JobState.RETRY_WAIT);

    assertThat(store.cancels().cancel(id, "ops", null).previous()).isEqualTo(JobState.RETRY_WAIT);

    clock.advance(Duration.ofMinutes(2));
    assertThat(store.outbox().reserveDue(store.keys().partitionOf(id), 100, TTL)).isEmpty();
    assertThat(view(id).state()).isEqualTo(JobState.CANCELLED);
  }

  @Test
  void aFinishedJobIsLeftAsItIsAndASecondCancelSaysSo() {
    String done = queued();
    long token = running(done, "w1");
    store
        .reports()
        .report(
            new StatusEvent.Succeeded(done, "demo.noop", 1, token, 1, "w1", clock.instant()),
            Duration.ZERO);
    String cancelled = submitted(null);
    store.cancels().cancel(cancelled, "ops", null);
    int historyBefore = view(cancelled).history().size();

    CancelResult ofDone = store.cancels().cancel(done, "ops", null);
    CancelResult again = store.cancels().cancel(cancelled, "someone else", null);

    assertThat(ofDone.outcome()).isEqualTo(CancelResult.Outcome.FINISHED);
    assertThat(ofDone.previous()).isEqualTo(JobState.SUCCEEDED);
    assertThat(view(done).state()).isEqualTo(JobState.SUCCEEDED);
    assertThat(again.outcome()).isEqualTo(CancelResult.Outcome.FINISHED);
    assertThat(again.previous()).isEqualTo(JobState.CANCELLED);
    assertThat(view(cancelled).cancelledBy()).isEqualTo("ops");
    assertThat(view(cancelled).history()).hasSize(historyBefore);
  }

  @Test
  void anUnknownJobIsMissing() {
    assertThat(store.cancels().cancel("01-00000000000000000000000000000000", "ops", null).outcome())
        .isEqualTo(CancelResult.Outcome.MISSING);
    assertThat(store.cancels().cancel("not-an-id", "ops", null).outcome())
        .isEqualTo(CancelResult.Outcome.MISSING);
  }

  /**
   * A cancel and the running attempt's SUCCEEDED, sent at the same moment 200 times: every job ends
   * in exactly one terminal state, with one terminal line in its history, and both callers agree on
   * who won.
   */
  @Test
  void aCancelRacingTheJobsOwnCompletionEndsInExactlyOneTerminalState() throws Exception {
    int cancelsWon = 0;
    int completionsWon = 0;
    try (var pool = java.util.concurrent.Executors.newFixedThreadPool(2)) {
      for (int i = 0; i < 200; i++) {
        String id = queued();
        long token = running(id, "w1");
        var start = new java.util.concurrent.CountDownLatch(1);
        var cancel =
            pool.submit(
                () -> {
                  start.await();
                  return store.cancels().cancel(id, "ops", "race");
                });
        var report =
            pool.submit(
                () -> {
                  start.await();
                  return store
                      .reports()
                      .report(
                          new StatusEvent.Succeeded(
                              id, "demo.noop", 1, token, 1, "w1", clock.instant()),
                          Duration.ZERO);
                });
        start.countDown();
        CancelResult cancelled = cancel.get();
        ReportResult reported = report.get();

        JobView view = view(id);
        assertThat(view.history().stream().filter(h -> h.to().isTerminal()))
            .as("terminal lines of %s", id)
            .hasSize(1);
        if (view.state() == JobState.CANCELLED) {
          cancelsWon++;
          assertThat(cancelled.outcome()).isEqualTo(CancelResult.Outcome.CANCELLED);
          assertThat(reported.outcome()).isEqualTo(ReportResult.Outcome.FINISHED);
        } else {
          completionsWon++;
          assertThat(view.state()).isEqualTo(JobState.SUCCEEDED);
          assertThat(reported.outcome()).isEqualTo(ReportResult.Outcome.APPLIED);
          assertThat(cancelled.outcome()).isEqualTo(CancelResult.Outcome.FINISHED);
          assertThat(cancelled.previous()).isEqualTo(JobState.SUCCEEDED);
        }
        assertThat(redis.hasKey(base(id) + "lease:" + id)).isFalse();
      }
    }
    System.out.printf(
        "cancel against completion, 200 races: cancel won %d, completion won %d%n",
        cancelsWon, completionsWon);
    assertThat(cancelsWon + completionsWon).isEqualTo(200);
  }
}
