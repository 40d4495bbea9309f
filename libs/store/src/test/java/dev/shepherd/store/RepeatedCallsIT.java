package dev.shepherd.store;

import static org.assertj.core.api.Assertions.assertThat;

import dev.shepherd.model.JobEvent;
import dev.shepherd.model.JobState;
import dev.shepherd.model.JobTimeouts;
import dev.shepherd.model.JobView;
import dev.shepherd.model.StatusEvent;
import dev.shepherd.model.TransitionRecord;
import dev.shepherd.testsupport.ServiceEndpoints;
import dev.shepherd.testsupport.TestNames;
import dev.shepherd.testsupport.WithRealServices;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.data.redis.core.ScanOptions;

/**
 * A worker's outcome report and its lease renewal that reach Redis twice. A call whose reply was
 * lost is sent again with the same arguments: Lettuce sends again what it had written when its
 * connection dropped, and the blocking cluster client tries again a call whose reply timed out. So
 * report.lua and renew.lua can run a second time, at once or after the job moved on, with the same
 * fencing token, sequence number and {@code now}. The second run must change nothing: the job keeps
 * one terminal state, one outcome line in its history, one outbox entry for its retry and one
 * lease.
 *
 * <p>A call sent again is made here by making the same store call with the clock where it was for
 * the first, so the script gets the same arguments; after each, every key under the test's prefix
 * is compared with what it held before the repeat.
 */
@WithRealServices
class RepeatedCallsIT {

  private static final Duration BACKOFF = Duration.ofSeconds(10);

  private StoreFixture fixture;
  private Store store;

  @BeforeEach
  void connect(ServiceEndpoints endpoints, TestNames names) {
    fixture = new StoreFixture(endpoints, names);
    store = fixture.store;
  }

  @AfterEach
  void cleanUp() {
    fixture.close();
  }

  // ---- (a) a success reported twice ---------------------------------------------------------

  @Test
  void aSuccessReportThatReachesRedisAgainChangesNothing() {
    String id = fixture.claimed(3, JobTimeouts.NONE, "w1");
    long token = fixture.token(id);
    Instant reportedAt = fixture.clock.instant();
    StatusEvent succeeded = succeeded(id, token, 1, reportedAt);
    Map<String, Object> running = snapshot(id);
    ReportResult first = store.reports().report(succeeded, BACKOFF);
    assertThat(first).isEqualTo(new ReportResult(ReportResult.Outcome.APPLIED, "SUCCEEDED"));
    Map<String, Object> before = snapshot(id);
    assertThat(before).as("the snapshot sees what a call changes").isNotEqualTo(running);

    ReportResult again = store.reports().report(succeeded, BACKOFF);

    assertThat(again)
        .as("the attempt's outcome is applied already")
        .isEqualTo(new ReportResult(ReportResult.Outcome.FINISHED, "SUCCEEDED"));
    assertThat(snapshot(id))
        .as("every key under the prefix, as before the repeat")
        .isEqualTo(before);
    JobView view = fixture.view(id);
    assertThat(view.state()).isEqualTo(JobState.SUCCEEDED);
    assertThat(view.attempt()).isEqualTo(1);
    assertThat(view.finishedAt()).isEqualTo(reportedAt);
    assertThat(outcomeLines(view.history()))
        .singleElement()
        .satisfies(
            line -> {
              assertThat(line.event()).isEqualTo(JobEvent.SUCCEED);
              assertThat(line.fencingToken()).isEqualTo(token);
            });
    assertThat(store.queries().countInState(JobState.SUCCEEDED)).isEqualTo(1);
    assertThat(score(id, "state:SUCCEEDED"))
        .as("finished once, when the first call ran")
        .isEqualTo((double) reportedAt.toEpochMilli());
    assertThat(store.queries().leasesHeld()).isZero();
    assertThat(store.queries().outboxSize()).isZero();
  }

  /** The same, sent again later, with the clock moved on (the reply timed out, then a retry). */
  @Test
  void aSuccessReportSentAgainAfterTheClockMovedOnChangesNothing() {
    String id = fixture.claimed(3, JobTimeouts.NONE, "w1");
    StatusEvent succeeded = succeeded(id, fixture.token(id), 1, fixture.clock.instant());
    Instant firstSent = fixture.clock.instant();
    store.reports().report(succeeded, BACKOFF);
    Map<String, Object> before = snapshot(id);
    fixture.clock.advance(Duration.ofSeconds(5));

    // a re-sent call carries the `now` of its first sending
    fixture.clock.set(firstSent);
    ReportResult again = store.reports().report(succeeded, BACKOFF);

    assertThat(again).isEqualTo(new ReportResult(ReportResult.Outcome.FINISHED, "SUCCEEDED"));
    assertThat(snapshot(id)).isEqualTo(before);
    assertThat(outcomeLines(fixture.view(id).history())).hasSize(1);
  }

  // ---- (b) a retryable failure reported twice -----------------------------------------------

  @Test
  void aRetryableFailureThatReachesRedisAgainSchedulesOneRetry() {
    String id = fixture.claimed(3, JobTimeouts.NONE, "w1");
    long token = fixture.token(id);
    int partition = store.keys().partitionOf(id);
    Instant failedAt = fixture.clock.instant();
    StatusEvent failed = failed(id, token, 1, failedAt);
    ReportResult first = store.reports().report(failed, BACKOFF);
    assertThat(first).isEqualTo(new ReportResult(ReportResult.Outcome.APPLIED, "RETRY_WAIT"));
    Map<String, Object> before = snapshot(id);

    ReportResult again = store.reports().report(failed, BACKOFF);

    assertThat(again)
        .as("the attempt ended already: no second retry")
        .isEqualTo(new ReportResult(ReportResult.Outcome.FINISHED, "RETRY_WAIT"));
    assertThat(snapshot(id)).isEqualTo(before);
    JobView view = fixture.view(id);
    assertThat(view.state()).isEqualTo(JobState.RETRY_WAIT);
    assertThat(view.attempt()).as("the next attempt is the second").isEqualTo(2);
    assertThat(outcomeLines(view.history()))
        .extracting(TransitionRecord::event)
        .containsExactly(JobEvent.FAIL_RETRYABLE);
    assertThat(fixture.redis.opsForZSet().size(store.keys().of(partition, Keys.DUE)))
        .as("one outbox entry: the job runs once more, not twice")
        .isEqualTo(1);
    assertThat(fixture.redis.opsForZSet().score(store.keys().of(partition, Keys.DUE), id))
        .as("due after one backoff from the failure")
        .isEqualTo((double) failedAt.plus(BACKOFF).toEpochMilli());
    assertThat(store.queries().countInState(JobState.RETRY_WAIT)).isEqualTo(1);
  }

  /**
   * Sent again after the retry was published (QUEUED, the token still the failed attempt's, as no
   * attempt claimed it yet), and again after the next attempt claimed it: neither changes the job.
   */
  @Test
  void aRetryableFailureSentAgainAfterTheRetryWasPublishedOrClaimedChangesNothing() {
    String id = fixture.claimed(3, JobTimeouts.NONE, "w1");
    long token = fixture.token(id);
    int partition = store.keys().partitionOf(id);
    Instant failedAt = fixture.clock.instant();
    StatusEvent failed = failed(id, token, 1, failedAt);
    store.reports().report(failed, BACKOFF);
    fixture.clock.advance(BACKOFF);
    fixture.dispatched(id);
    assertThat(fixture.view(id).state()).isEqualTo(JobState.QUEUED);
    assertThat(fixture.token(id)).as("no new claim yet: the same token").isEqualTo(token);
    Instant queuedUntil = fixture.clock.instant();
    Map<String, Object> queued = snapshot(id);

    fixture.clock.set(failedAt);
    ReportResult whileQueued = store.reports().report(failed, BACKOFF);

    assertThat(whileQueued).isEqualTo(new ReportResult(ReportResult.Outcome.FINISHED, "QUEUED"));
    assertThat(snapshot(id)).as("no second outbox entry, the job still QUEUED").isEqualTo(queued);
    assertThat(fixture.redis.opsForZSet().score(store.keys().of(partition, Keys.DUE), id)).isNull();
    assertThat(fixture.view(id).attempt()).isEqualTo(2);

    fixture.clock.set(queuedUntil);
    long second = fixture.claim(id, 2, "w2");
    Map<String, Object> claimed = snapshot(id);
    fixture.clock.set(failedAt);
    ReportResult whileTheNextRuns = store.reports().report(failed, BACKOFF);

    assertThat(whileTheNextRuns).isEqualTo(new ReportResult(ReportResult.Outcome.STALE, "RUNNING"));
    assertThat(snapshot(id)).isEqualTo(claimed);
    JobView view = fixture.view(id);
    assertThat(view.state()).isEqualTo(JobState.RUNNING);
    assertThat(view.attempt()).isEqualTo(2);
    assertThat(view.workerId()).isEqualTo("w2");
    assertThat(fixture.token(id)).isEqualTo(second);
    assertThat(outcomeLines(view.history()))
        .extracting(TransitionRecord::event)
        .containsExactly(JobEvent.FAIL_RETRYABLE);
  }

  /** A permanent failure sent twice: one DEAD, one dead-job record, listed once. */
  @Test
  void aPermanentFailureThatReachesRedisAgainRecordsOneDeadJob() {
    String id = fixture.claimed(3, JobTimeouts.NONE, "w1");
    int partition = store.keys().partitionOf(id);
    StatusEvent failed =
        new StatusEvent.Failed(
            id, "demo.noop", 1, fixture.token(id), 1, "w1", fixture.clock.instant(), "bad", false);
    assertThat(store.reports().report(failed, BACKOFF))
        .isEqualTo(new ReportResult(ReportResult.Outcome.APPLIED, "DEAD"));
    Map<String, Object> before = snapshot(id);

    ReportResult again = store.reports().report(failed, BACKOFF);

    assertThat(again).isEqualTo(new ReportResult(ReportResult.Outcome.FINISHED, "DEAD"));
    assertThat(snapshot(id)).isEqualTo(before);
    assertThat(outcomeLines(fixture.view(id).history()))
        .extracting(TransitionRecord::event)
        .containsExactly(JobEvent.FAIL_PERMANENT);
    assertThat(fixture.redis.opsForZSet().size(store.keys().of(partition, Keys.DEAD))).isEqualTo(1);
    assertThat(store.queries().countInState(JobState.DEAD)).isEqualTo(1);
    assertThat(store.queries().outboxSize()).isZero();
  }

  /**
   * The late outcome of an attempt whose lease was released before it came (ADR 14) is applied
   * through {@code releasedAttempt}; sent again, it must not be applied a second time as another
   * late outcome.
   */
  @Test
  void aLateFailureOfAReleasedAttemptThatReachesRedisAgainSchedulesOneRetry() {
    String id = fixture.claimed(3, JobTimeouts.NONE, "w1");
    long token = fixture.token(id);
    int partition = store.keys().partitionOf(id);
    assertThat(
            store.leases().releaseAttempts(List.of(new Leases.AttemptToken(id, token)), "draining"))
        .hasSize(1);
    assertThat(fixture.redis.opsForHash().get(store.keys().job(id), "releasedAttempt"))
        .isEqualTo("1");
    Instant failedAt = fixture.clock.instant();
    StatusEvent failed = failed(id, token, 1, failedAt);
    ReportResult first = store.reports().report(failed, BACKOFF);
    assertThat(first).isEqualTo(new ReportResult(ReportResult.Outcome.APPLIED, "RETRY_WAIT"));
    Map<String, Object> before = snapshot(id);

    ReportResult again = store.reports().report(failed, BACKOFF);

    assertThat(again).isEqualTo(new ReportResult(ReportResult.Outcome.FINISHED, "RETRY_WAIT"));
    assertThat(snapshot(id)).isEqualTo(before);
    JobView view = fixture.view(id);
    assertThat(view.attempt()).isEqualTo(2);
    assertThat(outcomeLines(view.history()))
        .extracting(TransitionRecord::event)
        .containsExactly(JobEvent.LEASE_EXPIRED, JobEvent.FAIL_RETRYABLE);
    assertThat(fixture.redis.opsForZSet().size(store.keys().of(partition, Keys.DUE))).isEqualTo(1);
    assertThat(fixture.redis.opsForZSet().score(store.keys().of(partition, Keys.DUE), id))
        .isEqualTo((double) failedAt.plus(BACKOFF).toEpochMilli());
  }

  /** The same for a late success: one SUCCEEDED, no outbox entry left. */
  @Test
  void aLateSuccessOfAReleasedAttemptThatReachesRedisAgainChangesNothing() {
    String id = fixture.claimed(3, JobTimeouts.NONE, "w1");
    long token = fixture.token(id);
    store.leases().releaseAttempts(List.of(new Leases.AttemptToken(id, token)), "draining");
    StatusEvent succeeded = succeeded(id, token, 1, fixture.clock.instant());
    assertThat(store.reports().report(succeeded, BACKOFF))
        .isEqualTo(new ReportResult(ReportResult.Outcome.APPLIED, "SUCCEEDED"));
    Map<String, Object> before = snapshot(id);

    ReportResult again = store.reports().report(succeeded, BACKOFF);

    assertThat(again).isEqualTo(new ReportResult(ReportResult.Outcome.FINISHED, "SUCCEEDED"));
    assertThat(snapshot(id)).isEqualTo(before);
    JobView view = fixture.view(id);
    assertThat(view.state()).isEqualTo(JobState.SUCCEEDED);
    assertThat(view.attempt()).isEqualTo(1);
    assertThat(outcomeLines(view.history()))
        .extracting(TransitionRecord::event)
        .containsExactly(JobEvent.LEASE_EXPIRED, JobEvent.SUCCEED);
    assertThat(store.queries().countInState(JobState.SUCCEEDED)).isEqualTo(1);
    assertThat(store.queries().outboxSize()).isZero();
  }

  // ---- (c) a renewal sent twice --------------------------------------------------------------

  @Test
  void aRenewalThatReachesRedisAgainKeepsOneLeaseWithItsDeadline() {
    String id = fixture.claimed(3, JobTimeouts.NONE, "w1");
    long token = fixture.token(id);
    int partition = store.keys().partitionOf(id);
    String leaseKey = store.keys().of(partition, Keys.Name.LEASE.relative(id));
    fixture.clock.advance(Duration.ofSeconds(10));
    Instant renewedAt = fixture.clock.instant();
    Map<String, Object> claimed = snapshot(id);
    assertThat(store.leases().renewLease(id, token, StoreFixture.TTL))
        .isEqualTo(Leases.LeaseRenewal.RENEWED);
    Map<String, Object> before = snapshot(id);
    assertThat(before).as("the renewal moved the lease's deadline").isNotEqualTo(claimed);

    Leases.LeaseRenewal again = store.leases().renewLease(id, token, StoreFixture.TTL);

    assertThat(again).isEqualTo(Leases.LeaseRenewal.RENEWED);
    assertThat(snapshot(id)).isEqualTo(before);
    assertThat(fixture.redis.opsForZSet().size(store.keys().of(partition, Keys.LEASES)))
        .as("one lease")
        .isEqualTo(1);
    assertThat(score(id, Keys.LEASES))
        .as("the lease runs one TTL from the renewal, not two")
        .isEqualTo((double) renewedAt.plus(StoreFixture.TTL).toEpochMilli());
    assertThat(fixture.redis.opsForValue().get(leaseKey)).isEqualTo("w1|" + token);
    assertThat(fixture.redis.getExpire(leaseKey))
        .as("the lease key's own expiry is one TTL at most")
        .isPositive()
        .isLessThanOrEqualTo(StoreFixture.TTL.toSeconds());
    JobView view = fixture.view(id);
    assertThat(view.state()).isEqualTo(JobState.RUNNING);
    assertThat(view.attempt()).isEqualTo(1);
    assertThat(view.workerId()).isEqualTo("w1");
    assertThat(fixture.token(id)).isEqualTo(token);
    assertThat(view.history()).filteredOn(h -> h.event() == JobEvent.CLAIM).hasSize(1);
    assertThat(store.leaseRecovery().leasesOf("w1"))
        .extracting(LeaseRecovery.HeldLease::jobId)
        .containsExactly(id);
  }

  /**
   * Two renewals that reach Redis out of order (the first one's reply was lost and it was sent
   * again after the second): the older must not move the lease's deadline back, or recovery would
   * take the lease of a worker that renewed it in time.
   */
  @Test
  void anOlderRenewalThatReachesRedisAfterANewerOneKeepsTheLaterDeadline() {
    String id = fixture.claimed(3, JobTimeouts.NONE, "w1");
    long token = fixture.token(id);
    fixture.clock.advance(Duration.ofSeconds(5));
    Instant olderAt = fixture.clock.instant();
    fixture.clock.advance(Duration.ofSeconds(5));
    Instant newerAt = fixture.clock.instant();
    assertThat(store.leases().renewLease(id, token, StoreFixture.TTL))
        .isEqualTo(Leases.LeaseRenewal.RENEWED);

    fixture.clock.set(olderAt);
    Leases.LeaseRenewal older = store.leases().renewLease(id, token, StoreFixture.TTL);

    assertThat(older).isEqualTo(Leases.LeaseRenewal.RENEWED);
    assertThat(score(id, Keys.LEASES))
        .as("the lease still runs one TTL from the newer renewal")
        .isEqualTo((double) newerAt.plus(StoreFixture.TTL).toEpochMilli());
  }

  /**
   * A renewal sent again after the attempt's outcome was applied finds no attempt to renew: it must
   * not bring back the lease the outcome released.
   */
  @Test
  void aRenewalSentAgainAfterTheOutcomeBringsNoLeaseBack() {
    String id = fixture.claimed(3, JobTimeouts.NONE, "w1");
    long token = fixture.token(id);
    String leaseKey = store.keys().of(store.keys().partitionOf(id), Keys.Name.LEASE.relative(id));
    Instant renewedAt = fixture.clock.instant();
    assertThat(store.leases().renewLease(id, token, StoreFixture.TTL))
        .isEqualTo(Leases.LeaseRenewal.RENEWED);
    fixture.clock.advance(Duration.ofSeconds(1));
    store.reports().report(succeeded(id, token, 1, fixture.clock.instant()), BACKOFF);
    Map<String, Object> before = snapshot(id);

    fixture.clock.set(renewedAt);
    Leases.LeaseRenewal again = store.leases().renewLease(id, token, StoreFixture.TTL);

    assertThat(again).isEqualTo(Leases.LeaseRenewal.LOST);
    assertThat(snapshot(id)).isEqualTo(before);
    assertThat(fixture.redis.hasKey(leaseKey)).isFalse();
    assertThat(store.queries().leasesHeld()).isZero();
    assertThat(fixture.view(id).state()).isEqualTo(JobState.SUCCEEDED);
  }

  // ---- helpers ---------------------------------------------------------------------------------

  private static StatusEvent succeeded(String id, long token, long sequence, Instant at) {
    return new StatusEvent.Succeeded(id, "demo.noop", 1, token, sequence, "w1", at);
  }

  private static StatusEvent failed(String id, long token, long sequence, Instant at) {
    return new StatusEvent.Failed(id, "demo.noop", 1, token, sequence, "w1", at, "boom", true);
  }

  /** The history lines that end an attempt: its outcome, or its lease taken away. */
  private static List<TransitionRecord> outcomeLines(List<TransitionRecord> history) {
    return history.stream()
        .filter(
            h ->
                h.event() != null
                    && switch (h.event()) {
                      case SUCCEED,
                          FAIL_RETRYABLE,
                          FAIL_PERMANENT,
                          LEASE_EXPIRED,
                          ATTEMPTS_EXHAUSTED ->
                          true;
                      default -> false;
                    })
        .toList();
  }

  /** The job's score in one index of its partition (relative name), or null. */
  private Double score(String id, String index) {
    return fixture
        .redis
        .opsForZSet()
        .score(store.keys().of(store.keys().partitionOf(id), index), id);
  }

  /**
   * Every key under the test's prefix ({@code id}'s job among them) with what it holds, and whether
   * it expires (not when: a lease key's own expiry restarts with a renewal sent again, harmlessly,
   * while the deadline the reaper reads is compared exactly in the partition's {@code leases}
   * index).
   */
  private Map<String, Object> snapshot(String id) {
    List<String> keys = new ArrayList<>();
    try (var cursor =
        fixture.redis.scan(
            ScanOptions.scanOptions().match(fixture.prefix + ":*").count(1000).build())) {
      cursor.forEachRemaining(keys::add);
    }
    Map<String, Object> snapshot = new TreeMap<>();
    for (String key : keys) {
      Object value =
          switch (fixture.redis.type(key)) {
            case STRING -> fixture.redis.opsForValue().get(key);
            case HASH -> new TreeMap<>(fixture.redis.opsForHash().entries(key));
            case LIST -> fixture.redis.opsForList().range(key, 0, -1);
            case SET -> new TreeSet<>(fixture.redis.opsForSet().members(key));
            case ZSET ->
                fixture.redis.opsForZSet().rangeWithScores(key, 0, -1).stream()
                    .map(t -> t.getValue() + "=" + t.getScore())
                    .toList();
            default -> "?";
          };
      Long ttl = fixture.redis.getExpire(key);
      snapshot.put(key, List.of(value, ttl != null && ttl >= 0 ? "expires" : "kept"));
    }
    assertThat(snapshot)
        .as("the scan saw the job's partition")
        .containsKeys(
            store.keys().job(id), store.keys().of(store.keys().partitionOf(id), Keys.JOBS));
    return snapshot;
  }
}
