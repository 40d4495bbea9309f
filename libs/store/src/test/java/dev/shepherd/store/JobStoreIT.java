package dev.shepherd.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;
import static org.awaitility.Awaitility.await;

import dev.shepherd.model.DeadJob;
import dev.shepherd.model.JobEvent;
import dev.shepherd.model.JobState;
import dev.shepherd.model.JobSummary;
import dev.shepherd.model.JobView;
import dev.shepherd.model.StatusEvent;
import dev.shepherd.model.TransitionRecord;
import dev.shepherd.model.Transitions;
import dev.shepherd.testsupport.ServiceEndpoints;
import dev.shepherd.testsupport.SettableClock;
import dev.shepherd.testsupport.TestNames;
import dev.shepherd.testsupport.WithRealServices;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.data.redis.core.StringRedisTemplate;
import org.springframework.data.redis.core.script.RedisScript;

@WithRealServices
class JobStoreIT {

  private static final Duration TTL = Duration.ofSeconds(30);

  /** Not the default minute, so a store that ignored its setting would fail the grace tests. */
  private static final Duration GRACE = Duration.ofSeconds(20);

  private static final Duration NO_BACKOFF = Duration.ZERO;

  private StoreFixture fixture;
  private SettableClock clock;
  private StringRedisTemplate redis;
  private Store store;
  private String prefix;

  @BeforeEach
  void connect(ServiceEndpoints endpoints, TestNames names) {
    fixture =
        new StoreFixture(
            endpoints,
            names,
            prefix ->
                new StoreSettings(
                    prefix, 4, Duration.ofDays(7), StoreSettings.DEFAULT_DEAD_RETENTION, GRACE));
    clock = fixture.clock;
    redis = fixture.redis;
    store = fixture.store;
    prefix = fixture.prefix;
  }

  @AfterEach
  void cleanUp() {
    fixture.close();
  }

  private String submit(int maxAttempts) {
    return store
        .submissions()
        .submit(new NewJob("demo.noop", "default", "{\"n\":1}", null, null, maxAttempts))
        .jobId();
  }

  private DueEntry dispatch(String jobId) {
    int partition = store.keys().partitionOf(jobId);
    List<DueEntry> due = store.outbox().reserveDue(partition, 100, Duration.ofSeconds(30));
    DueEntry entry = due.stream().filter(e -> e.jobId().equals(jobId)).findFirst().orElseThrow();
    store.outbox().markDispatched(partition, List.of(entry));
    return entry;
  }

  /** A job submitted and dispatched: QUEUED in the pool {@code default}. */
  private String queued() {
    String id = submit(3);
    dispatch(id);
    return id;
  }

  private long claim(String jobId, int attempt, String worker) {
    return fixture.claim(jobId, attempt, worker);
  }

  private StatusEvent succeeded(String jobId, int attempt, long token, long seq) {
    return succeeded(jobId, attempt, token, seq, "w1");
  }

  private StatusEvent succeeded(String jobId, int attempt, long token, long seq, String worker) {
    return new StatusEvent.Succeeded(
        jobId, "demo.noop", attempt, token, seq, worker, clock.instant());
  }

  /** One stale-queued pass over the partition of {@code jobId}, pool "default", 10 at most. */
  private List<String> requeueStale(String jobId, Duration timeout) {
    return store.outbox().requeueStale(partition(jobId), "default", timeout, 10);
  }

  private int partition(String jobId) {
    return store.keys().partitionOf(jobId);
  }

  private JobView view(String jobId) {
    return fixture.view(jobId);
  }

  @Test
  void aRepeatedIdempotencyKeyReturnsTheFirstJob() {
    var job = new NewJob("demo.noop", "default", "{}", "order-42", null, 3);
    SubmitOutcome first = store.submissions().submit(job);
    SubmitOutcome second = store.submissions().submit(job);
    assertThat(first).isInstanceOf(SubmitOutcome.Accepted.class);
    assertThat(second).isInstanceOf(SubmitOutcome.Duplicate.class);
    assertThat(second.jobId()).isEqualTo(first.jobId());
    assertThat(store.queries().outboxSize()).isEqualTo(1);
  }

  @Test
  void aDelayedJobIsScheduledAndNotDueBeforeItsTime() {
    Instant later = clock.instant().plusSeconds(60);
    var outcome =
        store.submissions().submit(new NewJob("demo.noop", "default", "{}", "k-delay", later, 3));
    assertThat(outcome.state()).isEqualTo(JobState.SCHEDULED);
    int partition = store.keys().partitionOf(outcome.jobId());
    assertThat(store.outbox().reserveDue(partition, 10, TTL)).isEmpty();
    clock.advance(Duration.ofSeconds(61));
    assertThat(store.outbox().reserveDue(partition, 10, TTL))
        .extracting(DueEntry::jobId)
        .containsExactly(outcome.jobId());
  }

  @Test
  void aReservedEntryIsHiddenFromOtherDispatchersUntilItsVisibilityRunsOut() {
    String id = submit(3);
    int partition = store.keys().partitionOf(id);
    assertThat(store.outbox().reserveDue(partition, 10, Duration.ofSeconds(10))).hasSize(1);
    assertThat(store.outbox().reserveDue(partition, 10, Duration.ofSeconds(10))).isEmpty();
    clock.advance(Duration.ofSeconds(11));
    assertThat(store.outbox().reserveDue(partition, 10, Duration.ofSeconds(10))).hasSize(1);
  }

  @Test
  void aSubmitThatReservesHandsBackTheEntryOfAJobDueNowAndHidesItUntilTheReservationRunsOut() {
    var reserved =
        (SubmitOutcome.Accepted)
            store
                .submissions()
                .submit(
                    new NewJob("demo.noop", "default", "{\"a\":1}", null, null, 3),
                    Duration.ofSeconds(10));
    assertThat(reserved.reserved())
        .isEqualTo(
            new DueEntry(
                reserved.jobId(), "demo.noop", "default", 1, "{\"a\":1}", clock.instant(), null));
    int partition = store.keys().partitionOf(reserved.jobId());
    assertThat(store.outbox().reserveDue(partition, 10, TTL)).isEmpty();
    clock.advance(Duration.ofSeconds(11));
    assertThat(store.outbox().reserveDue(partition, 10, TTL))
        .extracting(DueEntry::jobId)
        .containsExactly(reserved.jobId());

    var delayed =
        (SubmitOutcome.Accepted)
            store
                .submissions()
                .submit(
                    new NewJob(
                        "demo.noop", "default", "{}", null, clock.instant().plusSeconds(60), 3),
                    Duration.ofSeconds(10));
    assertThat(delayed.reserved()).as("a delayed job waits for the dispatcher").isNull();
    assertThat(delayed.state()).isEqualTo(JobState.SCHEDULED);
  }

  @Test
  void aJobWhoseHistoryIsInItsHashKeepsItThereAndGetsItsRetention() {
    String id = submit(3);
    // as a job stored while the history was a field of the job hash (ADR 23)
    String job = store.keys().job(id);
    String list = job + ":history";
    String first =
        "{\"at\":\""
            + clock.millis()
            + "\",\"to\":\"SUBMITTED\",\"event\":\"SUBMIT\",\"attempt\":1}";
    assertThat(fixture.redis.hasKey(list)).isFalse();
    fixture.redis.opsForHash().put(job, "history", first);
    fixture.redis.opsForHash().delete(job, "phased", "held");

    dispatch(id);
    long token = claim(id, 1, "w1");
    store.reports().report(succeeded(id, 1, token, 1, "w1"), NO_BACKOFF);

    assertThat(view(id).history())
        .extracting(TransitionRecord::event)
        .containsExactly(null, JobEvent.DISPATCH, JobEvent.CLAIM, JobEvent.SUCCEED);
    assertThat(fixture.redis.hasKey(list)).isFalse();
    assertThat(((String) fixture.redis.opsForHash().get(job, "history")).lines()).hasSize(4);
    assertThat(fixture.redis.getExpire(job)).isPositive();
  }

  @Test
  void aJobThatRunsStraightThroughHasNoHistoryListAndItsHashHoldsEveryLineAsStored() {
    // Redis keeps a hash compact (listpack) only while every value is at most
    // hash-max-listpack-value (64 bytes by default) long: the history in the hash made every job
    // a hashtable, 2.2 KiB per finished job in the bench instead of about 1.6 (ADR 28). Since ADR
    // 52 the hash holds the lines of a job that runs straight through instead of a list.
    String held = submit(3);
    // the same steps at the same instants for a job stored before ADR 52 (no `held`): its lines
    // are stored, and the held job's view must show exactly those
    String stored = submit(3);
    redis.opsForHash().delete(store.keys().job(stored), "held");
    clock.advance(Duration.ofMillis(5));
    // both jobs may share a partition: each partition's entries are reserved and marked once
    for (int partition : new java.util.TreeSet<>(List.of(partition(held), partition(stored)))) {
      store.outbox().markDispatched(partition, store.outbox().reserveDue(partition, 100, TTL));
    }
    clock.advance(Duration.ofMillis(7));
    long heldToken = claim(held, 1, "w1");
    long storedToken = claim(stored, 1, "w1");
    clock.advance(Duration.ofMillis(11));
    store.reports().report(succeeded(held, 1, heldToken, 1, "w1"), NO_BACKOFF);
    store.reports().report(succeeded(stored, 1, storedToken, 1, "w1"), NO_BACKOFF);

    String job = store.keys().job(held);
    String encoding =
        fixture.redis.execute(
            (org.springframework.data.redis.core.RedisCallback<String>)
                c -> c.keyCommands().encodingOf(job.getBytes(StandardCharsets.UTF_8)).raw());
    assertThat(encoding).isIn("listpack", "ziplist");
    assertThat(redis.hasKey(job + ":history")).as("no history list").isFalse();
    assertThat(redis.opsForHash().get(job, "held")).isEqualTo("2");
    assertThat(redis.getExpire(job)).isPositive();
    assertThat(redis.hasKey(job + ":phases")).isFalse();
    assertThat(redis.opsForList().size(store.keys().job(stored) + ":history")).isEqualTo(2);
    assertThat(redis.getExpire(store.keys().job(stored) + ":history")).isPositive();

    Instant submitted = clock.instant().minusMillis(23);
    List<TransitionRecord> history = view(held).history();
    assertThat(history)
        .containsExactly(
            new TransitionRecord(submitted, null, JobState.SUBMITTED, null, 1, null, null, null),
            new TransitionRecord(
                submitted.plusMillis(5),
                JobState.SUBMITTED,
                JobState.QUEUED,
                JobEvent.DISPATCH,
                1,
                null,
                null,
                null),
            new TransitionRecord(
                submitted.plusMillis(12),
                JobState.QUEUED,
                JobState.RUNNING,
                JobEvent.CLAIM,
                1,
                "w1",
                heldToken,
                "w1"),
            new TransitionRecord(
                submitted.plusMillis(23),
                JobState.RUNNING,
                JobState.SUCCEEDED,
                JobEvent.SUCCEED,
                1,
                null,
                heldToken,
                "w1"));
    assertThat(view(stored).history())
        .usingRecursiveFieldByFieldElementComparatorIgnoringFields("fencingToken")
        .containsExactlyElementsOf(history);
    assertThat(view(stored).history())
        .filteredOn(h -> h.fencingToken() != null)
        .extracting(TransitionRecord::fencingToken)
        .containsOnly(storedToken);
  }

  @Test
  void theLinesAHashHeldAreStoredFirstWhenTheJobLeavesTheStraightPath() {
    Instant submitted = clock.instant();
    String id = queued();
    clock.advance(Duration.ofMillis(3));
    long first = claim(id, 1, "w1");
    assertThat(redis.opsForHash().get(store.keys().job(id), "held")).isEqualTo("1");
    clock.advance(Duration.ofMillis(4));
    store
        .reports()
        .report(
            new StatusEvent.Failed(
                id, "demo.noop", 1, first, 1, "w1", clock.instant(), "boom", true),
            NO_BACKOFF);
    String list = store.keys().job(id) + ":history";
    // the held CLAIM line went first, with the first claim's token and worker
    assertThat(redis.opsForList().range(list, 0, -1))
        .hasSize(2)
        .first()
        .satisfies(
            line ->
                assertThat(line)
                    .contains(
                        "\"event\":\"CLAIM\"",
                        "\"fencingToken\":\"" + first + "\"",
                        "\"workerId\":\"w1\"",
                        "\"at\":\"" + submitted.plusMillis(3).toEpochMilli()));
    assertThat(redis.opsForHash().get(store.keys().job(id), "held")).isEqualTo("L");

    dispatch(id);
    long second = claim(id, 2, "w2");
    store.reports().report(succeeded(id, 2, second, 1, "w2"), NO_BACKOFF);
    assertThat(redis.opsForList().size(list)).isEqualTo(5);
    assertThat(redis.getExpire(list)).as("the list gets the job's retention").isPositive();
    assertThat(view(id).history())
        .extracting(
            TransitionRecord::event,
            TransitionRecord::attempt,
            TransitionRecord::fencingToken,
            TransitionRecord::workerId)
        .containsExactly(
            tuple(null, 1, null, null),
            tuple(JobEvent.DISPATCH, 1, null, null),
            tuple(JobEvent.CLAIM, 1, first, "w1"),
            tuple(JobEvent.FAIL_RETRYABLE, 1, first, "w1"),
            tuple(JobEvent.DISPATCH, 2, null, null),
            tuple(JobEvent.CLAIM, 2, second, "w2"),
            tuple(JobEvent.SUCCEED, 2, second, "w2"));
  }

  @Test
  void aJobsSubmitAndDispatchLinesAreWrittenFromItsHashOnceWhetherStoredOrNot() {
    Instant submittedAt = clock.instant();
    String id = submit(3);
    String list = store.keys().job(id) + ":history";
    assertThat(fixture.redis.hasKey(list)).as("a SUBMITTED job stores no history line").isFalse();
    assertThat(view(id).history())
        .extracting(TransitionRecord::to, TransitionRecord::at)
        .containsExactly(tuple(JobState.SUBMITTED, submittedAt));

    clock.advance(Duration.ofSeconds(1));
    Instant dispatchedAt = clock.instant();
    dispatch(id);
    assertThat(fixture.redis.hasKey(list)).as("a job waiting in its queue has no list").isFalse();
    assertThat(view(id).history())
        .extracting(TransitionRecord::to, TransitionRecord::event, TransitionRecord::at)
        .containsExactly(
            tuple(JobState.SUBMITTED, null, submittedAt),
            tuple(JobState.QUEUED, JobEvent.DISPATCH, dispatchedAt));
    assertThat(fixture.redis.<String, String>opsForHash().entries(store.keys().job(id)))
        .as("the dispatch as milliseconds after the submission (ADR 54); no seq before a claim")
        .containsEntry("dispatchedIn", "1000")
        .doesNotContainKeys("dispatchedAt", "seq");

    // a job stored before ADR 54 has the dispatch's time itself: shown the same
    fixture.redis.opsForHash().delete(store.keys().job(id), "dispatchedIn");
    fixture
        .redis
        .opsForHash()
        .put(store.keys().job(id), "dispatchedAt", Long.toString(dispatchedAt.toEpochMilli()));
    assertThat(view(id).history())
        .extracting(TransitionRecord::to, TransitionRecord::at)
        .containsExactly(
            tuple(JobState.SUBMITTED, submittedAt), tuple(JobState.QUEUED, dispatchedAt));

    // a job stored before ADR 51 has its SUBMIT line in the list: shown once
    fixture
        .redis
        .opsForList()
        .leftPush(
            list,
            "{\"at\":\""
                + submittedAt.toEpochMilli()
                + "\",\"to\":\"SUBMITTED\",\"event\":\"SUBMIT\",\"attempt\":1}");
    assertThat(view(id).history())
        .extracting(TransitionRecord::to)
        .containsExactly(JobState.SUBMITTED, JobState.QUEUED);

    // the stored lines follow, in order
    clock.advance(Duration.ofSeconds(1));
    claim(id, 1, "w1");
    assertThat(view(id).history())
        .extracting(TransitionRecord::to)
        .containsExactly(JobState.SUBMITTED, JobState.QUEUED, JobState.RUNNING);
  }

  @Test
  void anEntryLeavesTheOutboxOnlyWhenMarkedDispatched() {
    String id = submit(3);
    int partition = store.keys().partitionOf(id);
    List<DueEntry> reserved = store.outbox().reserveDue(partition, 10, Duration.ofSeconds(10));
    assertThat(store.queries().outboxSize()).isEqualTo(1);
    assertThat(view(id).state()).isEqualTo(JobState.SUBMITTED);
    assertThat(store.outbox().markDispatched(partition, reserved)).isEqualTo(1);
    assertThat(store.queries().outboxSize()).isZero();
    assertThat(view(id).state()).isEqualTo(JobState.QUEUED);
    assertThat(store.queries().backlog("default"))
        .isEqualTo(new JobQueries.PoolBacklog(1, clock.instant()));
    claim(id, 1, "w1");
    assertThat(store.queries().backlog("default")).isEqualTo(new JobQueries.PoolBacklog(0, null));
  }

  @Test
  void thirtyTwoThreadsRaceForOneClaimAndExactlyOneWins() throws Exception {
    String id = queued();
    int threads = 32;
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    CountDownLatch start = new CountDownLatch(1);
    List<Future<ClaimResult>> results = new ArrayList<>();
    for (int i = 0; i < threads; i++) {
      String worker = "w" + i;
      Callable<ClaimResult> race =
          () -> {
            start.await();
            return store.leases().claim(id, 1, worker, TTL);
          };
      results.add(pool.submit(race));
    }
    start.countDown();
    int wins = 0;
    for (Future<ClaimResult> r : results) {
      if (r.get() instanceof ClaimResult.Claimed) {
        wins++;
      }
    }
    pool.shutdown();
    assertThat(wins).isEqualTo(1);
    assertThat(view(id).state()).isEqualTo(JobState.RUNNING);
    assertThat(store.queries().leasesHeld()).isEqualTo(1);
  }

  @Test
  void aWorkMessageThatOvertakesTheDispatchConfirmCanStillBeClaimed() {
    String id = submit(3);
    store.outbox().reserveDue(store.keys().partitionOf(id), 10, TTL);
    assertThat(store.leases().claim(id, 1, "w1", TTL)).isInstanceOf(ClaimResult.Claimed.class);
    assertThat(view(id).history())
        .extracting(h -> h.event())
        .containsExactly(null, JobEvent.DISPATCH, JobEvent.CLAIM);
    assertThat(store.queries().outboxSize()).isZero();
  }

  @Test
  void theQueuedJobsAreListedByTheirPoolsIndexesWithNoStateIndexOfTheirOwn() {
    String waiting = queued();
    // a pool no worker announced: the submission makes it known
    String gpu =
        store
            .submissions()
            .submit(new NewJob("demo.noop", "gpu", "{\"n\":1}", null, null, 3))
            .jobId();
    dispatch(gpu);
    String claimed = queued();
    claim(claimed, 1, "w1");

    assertThat(store.queries().countInState(JobState.QUEUED)).isEqualTo(2);
    assertThat(store.queries().list(JobState.QUEUED, null, 10))
        .extracting(JobSummary::id)
        .containsExactlyInAnyOrder(waiting, gpu);
    assertThat(
            store
                .queries()
                .page(
                    new JobQueries.JobPageRequest(
                        JobState.QUEUED, null, null, null, null, null, 10),
                    null)
                .rows())
        .extracting(JobSummary::id)
        .containsExactlyInAnyOrder(waiting, gpu);
    // the overview counts every pool's QUEUED jobs, not only the pools it shows
    assertThat(store.queries().summary(List.of("default"), 1).counts().get(JobState.QUEUED))
        .isEqualTo(2);
    for (String id : List.of(waiting, gpu, claimed)) {
      assertThat(redis.hasKey(store.keys().of(partition(id), Keys.FORMER_QUEUED_INDEX)))
          .as("no script writes state:QUEUED")
          .isFalse();
    }
  }

  @Test
  void aClaimLeavesTheOutboxAloneForAConfirmedJobAndAnEntryPublishedAgainIsDroppedNotPublished() {
    String plain = queued();
    String again = queued();
    clock.advance(Duration.ofSeconds(61));
    assertThat(requeueStale(again, Duration.ofSeconds(60))).contains(again);
    int partition = partition(again);
    claim(plain, 1, "w1");
    claim(again, 1, "w1");

    // a claimed job is never published by an entry the claim left: the dispatcher drops it
    assertThat(store.outbox().reserveDue(partition, 100, Duration.ofSeconds(30)))
        .extracting(DueEntry::jobId)
        .doesNotContain(plain, again);
    assertThat(store.queries().outboxSize()).isZero();
    assertThat(view(again).state()).isEqualTo(JobState.RUNNING);
  }

  @Test
  void theRunningJobsAreListedByTheirLeasesWithNoStateIndexOfTheirOwn() {
    // one at a time: a dispatch reserves every due entry of its partition, and both jobs may
    // share one
    String running = queued();
    String waiting = queued();
    long token = claim(running, 1, "w1");
    int partition = store.keys().partitionOf(running);

    assertThat(store.queries().countInState(JobState.RUNNING)).isEqualTo(1);
    assertThat(store.queries().list(JobState.RUNNING, null, 10))
        .extracting(JobSummary::id)
        .containsExactly(running);
    assertThat(store.queries().list(JobState.QUEUED, null, 10))
        .extracting(JobSummary::id)
        .containsExactly(waiting);
    assertThat(redis.hasKey(store.keys().of(partition, Keys.FORMER_RUNNING_INDEX)))
        .as("no script writes state:RUNNING (ADR 38)")
        .isFalse();

    store.reports().report(succeeded(running, 1, token, 1), NO_BACKOFF);
    assertThat(store.queries().countInState(JobState.RUNNING)).isZero();
    assertThat(store.queries().list(JobState.SUCCEEDED, null, 10))
        .extracting(JobSummary::id)
        .containsExactly(running);
  }

  @Test
  void aDeliveryOfAnOldAttemptOrAFinishedJobIsRefused() {
    String id = queued();
    long token = claim(id, 1, "w1");
    assertThat(store.leases().claim(id, 1, "w2", TTL))
        .isEqualTo(new ClaimResult.Refused(ClaimResult.Reason.NOT_CLAIMABLE, "RUNNING"));
    store.reports().report(succeeded(id, 1, token, 1), NO_BACKOFF);
    assertThat(store.leases().claim(id, 1, "w2", TTL))
        .isEqualTo(new ClaimResult.Refused(ClaimResult.Reason.NOT_CLAIMABLE, "SUCCEEDED"));
    assertThat(store.leases().claim(id, 2, "w2", TTL))
        .isEqualTo(new ClaimResult.Refused(ClaimResult.Reason.STALE_ATTEMPT, "SUCCEEDED"));
    assertThat(store.leases().claim("00-nosuchjob", 1, "w2", TTL))
        .isEqualTo(new ClaimResult.Refused(ClaimResult.Reason.MISSING, null));
  }

  @Test
  void aTokenCountsOnlyForTheWorkerThatClaimedIt() {
    String id = queued();
    long token = claim(id, 1, "good");

    ReportResult borrowed = store.reports().report(succeeded(id, 1, token, 1, "rogue"), NO_BACKOFF);
    assertThat(borrowed.outcome()).isEqualTo(ReportResult.Outcome.STALE);
    assertThat(view(id).state()).isEqualTo(JobState.RUNNING);

    assertThat(store.reports().report(succeeded(id, 1, token, 2, "good"), NO_BACKOFF).outcome())
        .isEqualTo(ReportResult.Outcome.APPLIED);
    assertThat(view(id).state()).isEqualTo(JobState.SUCCEEDED);
  }

  @Test
  void staleWorkerCannotCompleteReclaimedJob() {
    String id = queued();
    long staleToken = claim(id, 1, "rogue");
    clock.advance(TTL.plusSeconds(1));
    List<ReapedLease> reaped =
        store.leaseRecovery().reapExpiredLeases(store.keys().partitionOf(id), 10, NO_BACKOFF);
    assertThat(reaped)
        .containsExactly(new ReapedLease(id, "rogue", 1, "RETRY_WAIT", "demo.noop", "default"));
    assertThat(store.leases().renew(id, staleToken, TTL)).isFalse();

    int partition = store.keys().partitionOf(id);
    DueEntry second =
        store.outbox().reserveDue(partition, 10, TTL).stream()
            .filter(e -> e.jobId().equals(id))
            .findFirst()
            .orElseThrow();
    List<Instant> expiries = new ArrayList<>();
    store.outbox().markDispatched(partition, List.of(second), expiries::add);
    assertThat(expiries).containsExactly(Instant.parse("2026-01-01T00:00:30Z")); // claim + TTL
    assertThat(second.attempt()).isEqualTo(2);
    long token = claim(id, 2, "good");
    assertThat(token).isGreaterThan(staleToken);

    ReportResult late = store.reports().report(succeeded(id, 1, staleToken, 9), NO_BACKOFF);
    assertThat(late.outcome()).isEqualTo(ReportResult.Outcome.STALE);
    assertThat(view(id).state()).isEqualTo(JobState.RUNNING);

    var failed =
        new StatusEvent.Failed(
            id, "demo.noop", 2, token, 1, "good", clock.instant(), "boom", false);
    assertThat(store.reports().report(failed, NO_BACKOFF).outcome())
        .isEqualTo(ReportResult.Outcome.APPLIED);
    assertThat(view(id).state()).isEqualTo(JobState.DEAD);
    assertThat(store.reports().report(succeeded(id, 1, staleToken, 10), NO_BACKOFF).outcome())
        .isEqualTo(ReportResult.Outcome.STALE);
    assertThat(view(id).state()).isEqualTo(JobState.DEAD);
  }

  @Test
  void duplicateAndOutOfOrderEventsChangeNothing() {
    String id = queued();
    long token = claim(id, 1, "w1");
    Instant t0 = clock.instant();
    var started = new StatusEvent.PhaseStarted(id, "demo.noop", 1, token, 1, "w1", t0, "render");
    var ended =
        new StatusEvent.PhaseEnded(
            id, "demo.noop", 1, token, 2, "w1", t0.plusMillis(250), "render");
    assertThat(store.reports().report(started, NO_BACKOFF).outcome())
        .isEqualTo(ReportResult.Outcome.APPLIED);
    assertThat(store.reports().report(ended, NO_BACKOFF).outcome())
        .isEqualTo(ReportResult.Outcome.APPLIED);
    assertThat(store.reports().report(started, NO_BACKOFF).outcome())
        .isEqualTo(ReportResult.Outcome.DUPLICATE);
    var lateProgress = new StatusEvent.Progress(id, "demo.noop", 1, token, 1, "w1", t0, 50, "half");
    assertThat(store.reports().report(lateProgress, NO_BACKOFF).outcome())
        .isEqualTo(ReportResult.Outcome.DUPLICATE);
    JobView job = view(id);
    assertThat(job.progressPercent()).isNull();
    assertThat(job.phases()).hasSize(1);
    assertThat(job.phases().get(0).durationMillis()).isEqualTo(250L);
    assertThat(job.phases().get(0).name()).isEqualTo("render");
  }

  @Test
  void retryableFailuresRetryUntilAttemptsRunOutThenTheJobIsDead() {
    String id = submit(2);
    dispatch(id);
    long t1 = claim(id, 1, "w1");
    var fail1 =
        new StatusEvent.Failed(id, "demo.noop", 1, t1, 1, "w1", clock.instant(), "e1", true);
    assertThat(store.reports().report(fail1, Duration.ofSeconds(5)).state())
        .isEqualTo("RETRY_WAIT");
    int partition = store.keys().partitionOf(id);
    assertThat(store.outbox().reserveDue(partition, 10, TTL)).isEmpty();
    clock.advance(Duration.ofSeconds(6));
    dispatch(id);
    long t2 = claim(id, 2, "w1");
    var fail2 =
        new StatusEvent.Failed(id, "demo.noop", 2, t2, 1, "w1", clock.instant(), "e2", true);
    assertThat(store.reports().report(fail2, NO_BACKOFF).state()).isEqualTo("DEAD");
    JobView job = view(id);
    assertThat(job.attempt()).isEqualTo(2);
    assertThat(job.lastError()).isEqualTo("e2");
    assertThat(job.finishedAt()).isNotNull();
    assertThat(store.deadJobs().listDead(10))
        .extracting(DeadJob::jobId, DeadJob::attempts)
        .containsExactly(org.assertj.core.groups.Tuple.tuple(id, 2));
    assertThat(store.queries().leasesHeld()).isZero();
    assertThat(store.queries().outboxSize()).isZero();
  }

  @Test
  void theRecordedPhasesOfAFinishedJobExpireWithIt() {
    String id = queued();
    long token = claim(id, 1, "w1");
    store
        .reports()
        .report(
            new StatusEvent.PhaseStarted(
                id, "demo.noop", 1, token, 1, "w1", clock.instant(), "render"),
            NO_BACKOFF);
    store.reports().report(succeeded(id, 1, token, 2), NO_BACKOFF);
    String phases = store.keys().base(store.keys().partitionOf(id)) + "job:" + id + ":phases";
    assertThat(redis.getExpire(phases))
        .isBetween(Duration.ofDays(7).minusMinutes(1).toSeconds(), Duration.ofDays(7).toSeconds());
  }

  @Test
  void aSucceededJobKeepsItsHistoryAndExpiresAfterTheRetention() {
    String id = queued();
    long token = claim(id, 1, "w1");
    store.reports().report(succeeded(id, 1, token, 1), NO_BACKOFF);
    JobView job = view(id);
    assertThat(job.state()).isEqualTo(JobState.SUCCEEDED);
    assertThat(job.history())
        .extracting(h -> h.to())
        .containsExactly(JobState.SUBMITTED, JobState.QUEUED, JobState.RUNNING, JobState.SUCCEEDED);
    Long ttl = redis.getExpire(store.keys().base(store.keys().partitionOf(id)) + "job:" + id);
    assertThat(ttl)
        .isBetween(Duration.ofDays(7).minusMinutes(1).toSeconds(), Duration.ofDays(7).toSeconds());
    assertThat(store.queries().list(JobState.SUCCEEDED, null, 10))
        .extracting(s -> s.id())
        .containsExactly(id);
    assertThat(store.queries().list(null, "other.type", 10)).isEmpty();
  }

  @Test
  void theHistoryLinesOfAnAttemptCarryItsFencingToken() {
    String id = queued();
    long first = claim(id, 1, "w1");
    clock.advance(TTL.plusSeconds(1));
    store.leaseRecovery().reapExpiredLeases(store.keys().partitionOf(id), 10, NO_BACKOFF);
    dispatch(id);
    long second = claim(id, 2, "w2");
    // the outcome line names the worker of the status event, not the one the job remembers
    store.reports().report(succeeded(id, 2, second, 1, "w2"), NO_BACKOFF);

    List<TransitionRecord> history = view(id).history();
    assertThat(history)
        .filteredOn(h -> h.event() == JobEvent.CLAIM)
        .extracting(TransitionRecord::fencingToken, TransitionRecord::workerId)
        .containsExactly(tuple(first, "w1"), tuple(second, "w2"));
    assertThat(history)
        .filteredOn(h -> h.event() == JobEvent.LEASE_EXPIRED)
        .extracting(TransitionRecord::fencingToken, TransitionRecord::workerId)
        .containsExactly(tuple(first, "w1"));
    assertThat(history.getLast().event()).isEqualTo(JobEvent.SUCCEED);
    assertThat(history.getLast().fencingToken()).isEqualTo(second);
    assertThat(history.getLast().workerId()).isEqualTo("w2");
    assertThat(history)
        .filteredOn(h -> h.event() == JobEvent.DISPATCH)
        .allSatisfy(
            h -> {
              assertThat(h.fencingToken()).isNull();
              assertThat(h.workerId()).isNull();
            });
  }

  @Test
  void fencingTokensGrowWithEveryClaimAndAreNeverBelowTheServerClock() {
    String id = submit(5);
    long previous = 0;
    for (int attempt = 1; attempt <= 3; attempt++) {
      dispatch(id);
      long token = claim(id, attempt, "w");
      assertThat(token).isGreaterThan(previous);
      assertThat(token).isGreaterThan(1_700_000_000_000_000L); // microseconds since the epoch
      previous = token;
      clock.advance(TTL.plusSeconds(1));
      store.leaseRecovery().reapExpiredLeases(store.keys().partitionOf(id), 10, NO_BACKOFF);
    }
  }

  @Test
  void aRedrivenDeadJobGetsOneMoreAttemptAndLeavesTheDeadRecords() {
    String id = submit(1);
    dispatch(id);
    long token = claim(id, 1, "w1");
    var failed =
        new StatusEvent.Failed(id, "demo.noop", 1, token, 1, "w1", clock.instant(), "bad", false);
    store.reports().report(failed, NO_BACKOFF);
    assertThat(view(id).state()).isEqualTo(JobState.DEAD);

    assertThat(store.deadJobs().redrive(id, "ann")).isEqualTo(DeadJobs.RedriveOutcome.REDRIVEN);
    JobView job = view(id);
    assertThat(job.state()).isEqualTo(JobState.QUEUED);
    assertThat(job.attempt()).isEqualTo(2);
    assertThat(job.maxAttempts()).isEqualTo(2);
    assertThat(job.history())
        .last()
        .satisfies(
            h -> {
              assertThat(h.event()).isEqualTo(JobEvent.REDRIVE);
              assertThat(h.reason()).isEqualTo("redriven by ann");
            });
    assertThat(store.deadJobs().listDead(10)).isEmpty();
    assertThat(store.deadJobs().redrive(id, "ann")).isEqualTo(DeadJobs.RedriveOutcome.NOT_DEAD);
    DueEntry again = dispatch(id);
    assertThat(again.attempt()).isEqualTo(2);
    assertThat(store.leases().claim(id, 2, "w2", TTL)).isInstanceOf(ClaimResult.Claimed.class);
  }

  @Test
  void aDiscardedDeadRecordKeepsWhoAndWhen() {
    DeadJob record = store.deadJobs().recordDead(null, null, "malformed", "q.submit", "{oops");
    assertThat(store.deadJobs().redrive(record.id(), "ann"))
        .isEqualTo(DeadJobs.RedriveOutcome.NO_JOB);
    assertThat(store.deadJobs().discardDead(record.id(), "bob")).isTrue();
    assertThat(store.deadJobs().listDead(10)).isEmpty();
    assertThat(store.deadJobs().listDiscarded(10))
        .singleElement()
        .satisfies(
            d -> {
              assertThat(d.discardedBy()).isEqualTo("bob");
              assertThat(d.discardedAt()).isEqualTo(clock.instant());
              assertThat(d.rawMessage()).isEqualTo("{oops");
            });
    assertThat(store.deadJobs().discardDead("00-nosuchrecord", "bob")).isFalse();
  }

  // ---- a published outcome survives the release of its lease (ADR 14) --------------------------

  @Test
  void theLateOutcomeOfAReleasedAttemptIsAppliedAsThatAttempt() {
    String id = queued();
    long token = claim(id, 1, "w1");
    assertThat(store.leaseRecovery().releaseLeasesOf("w1", "worker stopped"))
        .extracting(ReapedLease::newState)
        .containsExactly("RETRY_WAIT");

    ReportResult late = store.reports().report(succeeded(id, 1, token, 7, "w1"), NO_BACKOFF);

    assertThat(late).isEqualTo(new ReportResult(ReportResult.Outcome.APPLIED, "SUCCEEDED"));
    JobView job = view(id);
    assertThat(job.state()).isEqualTo(JobState.SUCCEEDED);
    assertThat(job.attempt()).isEqualTo(1);
    assertThat(job.history().getLast())
        .extracting(
            TransitionRecord::from,
            TransitionRecord::event,
            TransitionRecord::attempt,
            TransitionRecord::fencingToken,
            TransitionRecord::workerId)
        .containsExactly(JobState.RETRY_WAIT, JobEvent.SUCCEED, 1, token, "w1");
    assertThat(store.queries().outboxSize()).isZero();
    assertThat(store.outbox().reserveDue(partition(id), 10, TTL)).isEmpty();
    assertThat(store.leases().claim(id, 2, "w2", TTL))
        .isEqualTo(new ClaimResult.Refused(ClaimResult.Reason.STALE_ATTEMPT, "SUCCEEDED"));
  }

  @Test
  void theLateOutcomeOfAReleasedAttemptWinsOverANextAttemptAlreadyPublished() {
    String id = queued();
    long token = claim(id, 1, "w1");
    store.leaseRecovery().abandon(id, "w1", "over capacity");
    DueEntry next = dispatch(id);
    assertThat(next.attempt()).isEqualTo(2);
    assertThat(store.queries().backlog("default").depth()).isEqualTo(1);

    var failed =
        new StatusEvent.Failed(id, "demo.noop", 1, token, 3, "w1", clock.instant(), "bad", false);
    assertThat(store.reports().report(failed, NO_BACKOFF).state()).isEqualTo("DEAD");

    JobView job = view(id);
    assertThat(job.attempt()).isEqualTo(1);
    assertThat(job.lastError()).isEqualTo("bad");
    assertThat(store.queries().backlog("default").depth()).isZero();
    assertThat(store.deadJobs().listDead(10)).extracting(DeadJob::attempts).containsExactly(1);
    assertThat(store.leases().claim(id, 2, "w2", TTL))
        .isEqualTo(new ClaimResult.Refused(ClaimResult.Reason.STALE_ATTEMPT, "DEAD"));
  }

  @Test
  void aLateRetryableFailureIsCountedOnceAndADuplicateChangesNothing() {
    String id = queued();
    long token = claim(id, 1, "w1");
    store.leaseRecovery().releaseLeasesOf("w1", "worker lost");
    var failed =
        new StatusEvent.Failed(id, "demo.noop", 1, token, 4, "w1", clock.instant(), "flaky", true);

    assertThat(store.reports().report(failed, Duration.ofSeconds(5)).state())
        .isEqualTo("RETRY_WAIT");
    assertThat(store.reports().report(failed, Duration.ofSeconds(5)).outcome())
        .isEqualTo(ReportResult.Outcome.FINISHED);

    JobView job = view(id);
    assertThat(job.attempt()).isEqualTo(2);
    assertThat(job.lastError()).isEqualTo("flaky");
    assertThat(job.history())
        .filteredOn(h -> h.event() == JobEvent.FAIL_RETRYABLE)
        .singleElement()
        .extracting(TransitionRecord::attempt)
        .isEqualTo(1);
    assertThat(store.outbox().reserveDue(partition(id), 10, TTL))
        .isEmpty(); // the failure's backoff
    clock.advance(Duration.ofSeconds(6));
    assertThat(dispatch(id).attempt()).isEqualTo(2);
  }

  @Test
  void aReportFromATokenOlderThanTheLatestClaimIsStillStale() {
    String id = queued();
    long first = claim(id, 1, "w1");
    store.leaseRecovery().releaseLeasesOf("w1", "worker stopped");
    dispatch(id);
    long second = claim(id, 2, "w2");

    assertThat(store.reports().report(succeeded(id, 1, first, 9, "w1"), NO_BACKOFF).outcome())
        .isEqualTo(ReportResult.Outcome.STALE);

    JobView job = view(id);
    assertThat(job.state()).isEqualTo(JobState.RUNNING);
    assertThat(job.attempt()).isEqualTo(2);
    store.reports().report(succeeded(id, 2, second, 1, "w2"), NO_BACKOFF);
    assertThat(view(id).history())
        .filteredOn(h -> h.event() == JobEvent.SUCCEED)
        .extracting(TransitionRecord::attempt, TransitionRecord::fencingToken)
        .containsExactly(tuple(2, second));
  }

  @Test
  void aReleasedLastAttemptWaitsForItsOutcomeInsteadOfDyingAtOnce() {
    String id = submit(1);
    dispatch(id);
    long token = claim(id, 1, "w1");
    clock.advance(TTL.plusSeconds(1));
    assertThat(store.leaseRecovery().reapExpiredLeases(partition(id), 10, NO_BACKOFF))
        .extracting(ReapedLease::newState)
        .containsExactly("RETRY_WAIT");
    assertThat(store.outbox().reserveDue(partition(id), 10, TTL)).isEmpty();
    assertThat(store.leases().claim(id, 1, "w2", TTL))
        .isEqualTo(new ClaimResult.Refused(ClaimResult.Reason.NOT_CLAIMABLE, "RETRY_WAIT"));

    assertThat(store.reports().report(succeeded(id, 1, token, 2, "w1"), NO_BACKOFF).state())
        .isEqualTo("SUCCEEDED");

    assertThat(view(id).attempt()).isEqualTo(1);
    assertThat(store.deadJobs().listDead(10)).isEmpty();
    clock.advance(GRACE.plusSeconds(1));
    assertThat(store.outbox().reserveDue(partition(id), 10, TTL)).isEmpty();
    assertThat(view(id).state()).isEqualTo(JobState.SUCCEEDED);
  }

  @Test
  void aReleasedLastAttemptWithoutOutcomeIsDeadAfterTheGrace() {
    String id = submit(1);
    dispatch(id);
    long token = claim(id, 1, "w1");
    store.leaseRecovery().abandon(id, "w1", "over capacity");
    clock.advance(GRACE.minusSeconds(1));
    assertThat(store.outbox().reserveDue(partition(id), 10, TTL)).isEmpty();
    assertThat(view(id).state()).isEqualTo(JobState.RETRY_WAIT);

    clock.advance(Duration.ofSeconds(2));
    assertThat(store.outbox().reserveDue(partition(id), 10, TTL)).isEmpty();

    JobView job = view(id);
    assertThat(job.state()).isEqualTo(JobState.DEAD);
    assertThat(job.history().getLast())
        .extracting(TransitionRecord::from, TransitionRecord::event, TransitionRecord::fencingToken)
        .containsExactly(JobState.RETRY_WAIT, JobEvent.ATTEMPTS_EXHAUSTED, token);
    assertThat(store.deadJobs().listDead(10))
        .extracting(DeadJob::reason)
        .containsExactly("attempts exhausted (1): over capacity");
    assertThat(store.queries().outboxSize()).isZero();
    assertThat(store.reports().report(succeeded(id, 1, token, 2, "w1"), NO_BACKOFF).outcome())
        .isEqualTo(ReportResult.Outcome.FINISHED);
    assertThat(view(id).state()).isEqualTo(JobState.DEAD);
  }

  @Test
  void anOverCapacityCheckRacingAFinishedAttemptKeepsItsOutcome() {
    String id = queued();
    long token = claim(id, 1, "w1");
    // the worker published the outcome and holds the lease for it (ADR 11)
    assertThat(store.leases().holdForOutcome(id, token, TTL)).isTrue();

    store.leaseRecovery().abandon(id, "w1", "over capacity");

    // the outcome is known to be on its way: no next attempt within the grace
    clock.advance(GRACE.minusSeconds(1));
    assertThat(store.outbox().reserveDue(partition(id), 10, TTL)).isEmpty();
    assertThat(store.reports().report(succeeded(id, 1, token, 5, "w1"), NO_BACKOFF).state())
        .isEqualTo("SUCCEEDED");
    assertThat(view(id).attempt()).isEqualTo(1);
  }

  @Test
  void aDrainingWorkerReleasesOnlyTheAttemptsItNames() {
    String unfinished = submit(3);
    String published = submit(3);
    long unfinishedToken = claim(unfinished, 1, "w1");
    long publishedToken = claim(published, 1, "w1");

    List<ReapedLease> released =
        store
            .leases()
            .releaseAttempts(
                List.of(
                    new Leases.AttemptToken(unfinished, unfinishedToken),
                    new Leases.AttemptToken(published, publishedToken + 1)),
                "worker stopped");

    assertThat(released)
        .containsExactly(
            new ReapedLease(unfinished, "w1", 1, "RETRY_WAIT", "demo.noop", "default"));
    assertThat(view(unfinished).state()).isEqualTo(JobState.RETRY_WAIT);
    assertThat(view(published).state()).isEqualTo(JobState.RUNNING);
    assertThat(store.leaseRecovery().leasesOf("w1"))
        .extracting(LeaseRecovery.HeldLease::jobId)
        .containsExactly(published);
  }

  // ---- claims are idempotent ---------------------------------------------------------------

  @Test
  void aRepeatedClaimBySameWorkerForSameAttemptGetsSameToken() {
    String id = queued();
    long token = claim(id, 1, "w1");
    clock.advance(Duration.ofSeconds(20));

    assertThat(store.leases().claim(id, 1, "w1", TTL)).isEqualTo(new ClaimResult.Claimed(token));

    assertThat(store.leases().claim(id, 1, "w2", TTL)).isInstanceOf(ClaimResult.Refused.class);
    assertThat(view(id).history()).filteredOn(h -> h.event() == JobEvent.CLAIM).hasSize(1);
    // the repeated claim renewed the lease: it outlives the first claim's TTL
    clock.advance(Duration.ofSeconds(15));
    assertThat(store.leaseRecovery().reapExpiredLeases(partition(id), 10, NO_BACKOFF)).isEmpty();
    clock.advance(Duration.ofSeconds(16));
    assertThat(store.leaseRecovery().reapExpiredLeases(partition(id), 10, NO_BACKOFF)).hasSize(1);
    assertThat(store.leases().claim(id, 1, "w1", TTL))
        .isEqualTo(new ClaimResult.Refused(ClaimResult.Reason.STALE_ATTEMPT, "RETRY_WAIT"));
  }

  /**
   * A Redis restart dropped the reply of a claim that had run, and kept the worker from claiming
   * again until the lease key's own expiry (Redis's clock, PX) had passed; recovery, settling after
   * the outage, had not taken the attempt back. The repeated claim must get the attempt (same
   * token, lease held again), not be refused as if someone else ran it: refused, the worker dropped
   * the delivery, nobody ran the job, and the reaper sent it to a second attempt
   * (RedisOutageE2EIT).
   */
  @Test
  void aRepeatedClaimAfterTheLeaseKeyRanOutGetsTheAttemptWhileNobodyTookItBack() {
    String id = queued();
    var first = store.leases().claim(id, 1, "w1", Duration.ofMillis(50));
    assertThat(first).isInstanceOf(ClaimResult.Claimed.class);
    long token = ((ClaimResult.Claimed) first).fencingToken();
    String leaseKey = store.keys().of(partition(id), Keys.Name.LEASE.relative(id));
    await().atMost(Duration.ofSeconds(10)).until(() -> !redis.hasKey(leaseKey));

    assertThat(store.leases().claim(id, 1, "w1", TTL)).isEqualTo(new ClaimResult.Claimed(token));

    assertThat(redis.opsForValue().get(leaseKey)).isEqualTo("w1|" + token);
    assertThat(store.leases().claim(id, 1, "w2", TTL)).isInstanceOf(ClaimResult.Refused.class);
    assertThat(view(id).state()).isEqualTo(JobState.RUNNING);
    assertThat(view(id).history()).filteredOn(h -> h.event() == JobEvent.CLAIM).hasSize(1);
  }

  // ---- backlog age stays true --------------------------------------------------------------

  @Test
  void aRequeuedJobKeepsItsQueuedTimeAndIsRequeuedOncePerTimeout() {
    String id = queued();
    Instant queuedAt = clock.instant();
    Duration timeout = Duration.ofMinutes(1);
    clock.advance(Duration.ofSeconds(61));

    assertThat(requeueStale(id, timeout)).containsExactly(id);
    assertThat(store.queries().backlog("default"))
        .isEqualTo(new JobQueries.PoolBacklog(1, queuedAt));
    // a second recovery instance in the same pass finds nothing to do
    assertThat(requeueStale(id, timeout)).isEmpty();
    dispatch(id);
    clock.advance(Duration.ofSeconds(30));
    assertThat(requeueStale(id, timeout)).isEmpty();
    clock.advance(Duration.ofSeconds(31));
    assertThat(requeueStale(id, timeout)).containsExactly(id);
    assertThat(store.queries().backlog("default"))
        .isEqualTo(new JobQueries.PoolBacklog(1, queuedAt));
    claim(id, 1, "w1");
    assertThat(store.queries().backlog("default")).isEqualTo(new JobQueries.PoolBacklog(0, null));
    assertThat(requeueStale(id, Duration.ZERO)).isEmpty();
  }

  @Test
  void aJobClaimedInTimeLeavesNoRequeuedEntryAndNoCommandForIt() {
    String id = queued();
    claim(id, 1, "w1");

    // the stale-queued pass writes `requeued` only for a job it publishes again (ADR 50)
    assertThat(redis.hasKey(store.keys().of(partition(id), Keys.requeuedIndex("default"))))
        .isFalse();
  }

  @Test
  void aJobQueuedAgainAfterBeingPublishedAgainWaitsAWholeTimeoutFromItsNewQueuing() {
    String id = queued();
    Duration timeout = Duration.ofMinutes(1);
    clock.advance(Duration.ofSeconds(61));
    assertThat(requeueStale(id, timeout)).containsExactly(id);
    dispatch(id);
    long token = claim(id, 1, "w1");
    clock.advance(Duration.ofSeconds(100)); // it ran, then failed and is queued again
    var failed =
        new StatusEvent.Failed(id, "demo.noop", 1, token, 1, "w1", clock.instant(), "e1", true);
    assertThat(store.reports().report(failed, NO_BACKOFF).state()).isEqualTo("RETRY_WAIT");
    dispatch(id);
    Instant queuedAgainAt = clock.instant();

    // its publish of 161 s ago is older than the timeout, its new wait is not
    clock.advance(Duration.ofSeconds(30));
    assertThat(requeueStale(id, timeout)).isEmpty();
    clock.advance(Duration.ofSeconds(31));
    assertThat(requeueStale(id, timeout)).containsExactly(id);
    assertThat(store.queries().backlog("default"))
        .isEqualTo(new JobQueries.PoolBacklog(1, queuedAgainAt));
  }

  @Test
  void jobsNeverPublishedAgainGoBeforeThosePublishedAgainLongAgo() {
    String first = submit(3);
    int p = partition(first);
    dispatch(first);
    clock.advance(Duration.ofSeconds(1));
    String second = submit(3);
    while (partition(second) != p) { // the order within one partition's pass is what counts
      second = submit(3);
    }
    dispatch(second);
    Duration timeout = Duration.ofMinutes(1);
    clock.advance(Duration.ofSeconds(61));
    assertThat(store.outbox().requeueStale(p, "default", timeout, 1)).containsExactly(first);
    dispatch(first);
    clock.advance(Duration.ofSeconds(61)); // both waited past the timeout again

    assertThat(store.outbox().requeueStale(p, "default", timeout, 1)).containsExactly(second);
    assertThat(store.outbox().requeueStale(p, "default", timeout, 1)).containsExactly(first);
  }

  /** Runs the Lua side of the transition table over every (state, event) pair. */
  @Test
  void theLuaTransitionTableAgreesWithJavaOnEveryPair() {
    String body =
        """
        redis.call('HSET', jobKey('x'), 'state', ARGV[1], 'attempt', 1, 'pool', 'p')
        local to = transition('x', ARGV[2], 1, nil)
        return to or 'REFUSED'
        """;
    String source = Scripts.withPrelude(store.settings(), body);
    RedisScript<String> script = RedisScript.of(source, String.class);
    for (JobState state : JobState.values()) {
      for (JobEvent event : JobEvent.values()) {
        String lua =
            redis.execute(script, List.of(store.keys().base(0)), state.name(), event.name());
        String java = Transitions.next(state, event).map(Enum::name).orElse("REFUSED");
        assertThat(lua).as(state + " + " + event).isEqualTo(java);
      }
    }
  }
}
