package dev.shepherd.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.shepherd.engine.recovery.DeadLetterIntake;
import dev.shepherd.engine.recovery.LeaseReaper;
import dev.shepherd.engine.recovery.LostWorkers;
import dev.shepherd.engine.recovery.StaleQueued;
import dev.shepherd.engine.recovery.WorkQueueDepth;
import dev.shepherd.engine.status.StatusApplier;
import dev.shepherd.messaging.Topology;
import dev.shepherd.model.DeadJob;
import dev.shepherd.model.JobState;
import dev.shepherd.model.JobView;
import dev.shepherd.model.Json;
import dev.shepherd.model.RetryPolicy;
import dev.shepherd.model.StatusEvent;
import dev.shepherd.model.StatusMessages;
import dev.shepherd.model.WorkerView;
import dev.shepherd.store.ClaimResult;
import dev.shepherd.store.NewJob;
import dev.shepherd.store.ReportResult;
import dev.shepherd.store.StoreSettings;
import dev.shepherd.store.WorkerRegistry;
import dev.shepherd.testsupport.ServiceEndpoints;
import dev.shepherd.testsupport.TestNames;
import dev.shepherd.testsupport.WithRealServices;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.data.redis.core.StringRedisTemplate;

@WithRealServices
class StatusAndRecoveryIT {

  private static final Duration TTL = Duration.ofSeconds(30);
  private final SimpleMeterRegistry meters = new SimpleMeterRegistry();
  private final RetryPolicy noWait = new RetryPolicy(Duration.ZERO, Duration.ZERO);
  private EngineFixture fixture;
  private StatusApplier applier;

  @BeforeEach
  void setUp(ServiceEndpoints endpoints, TestNames names) {
    fixture = new EngineFixture(endpoints, names);
    applier =
        new StatusApplier(
            fixture.store.reports(),
            fixture.store.deadJobs(),
            noWait,
            new SplittableRandom(1),
            meters,
            fixture.topology::poolOf);
  }

  @AfterEach
  void tearDown() {
    fixture.close();
  }

  private String runningJob(String worker) {
    String id =
        fixture
            .store
            .submissions()
            .submit(new NewJob("demo.noop", "default", "{}", null, null, 2))
            .jobId();
    fixture.store.outbox().reserveDue(fixture.store.keys().partitionOf(id), 10, TTL);
    var claimed = (ClaimResult.Claimed) fixture.store.leases().claim(id, 1, worker, TTL);
    tokens.put(id, claimed.fencingToken());
    return id;
  }

  /** The fencing tokens of the jobs {@link #runningJob} claimed. */
  private final Map<String, Long> tokens = new HashMap<>();

  @Test
  void anUnreadableStatusMessageBecomesADeadRecordAndTheNextOneStillApplies() {
    assertThat(applier.apply("{not json".getBytes(StandardCharsets.UTF_8), "q.status")).isNull();
    List<DeadJob> dead = fixture.store.deadJobs().listDead(10);
    assertThat(dead)
        .singleElement()
        .satisfies(
            d -> {
              assertThat(d.reason()).startsWith("unreadable status event");
              assertThat(d.rawMessage()).isEqualTo("{not json");
              assertThat(d.source()).isEqualTo("q.status");
            });
    String missingToken =
        "{\"event\":\"SUCCEEDED\",\"jobId\":\"00-x\",\"type\":\"demo.noop\",\"attempt\":1,"
            + "\"sequence\":1,\"workerId\":\"w\",\"at\":\"2026-01-01T00:00:00Z\"}";
    assertThat(applier.apply(missingToken.getBytes(StandardCharsets.UTF_8), "q.status")).isNull();
    assertThat(fixture.store.deadJobs().listDead(10)).hasSize(2);
  }

  @Test
  void aBatchIsAppliedWholeAndCountedAsItsEventsWouldBeOneByOne() {
    String done = runningJob("w1");
    String other = runningJob("w2");
    long token = tokens.get(done);
    var now = fixture.clock.instant();
    List<StatusApplier.Incoming> batch =
        List.of(
            incoming(new StatusEvent.Succeeded(done, "demo.noop", 1, token, 1, "w1", now)),
            incoming(new StatusEvent.Succeeded(other, "demo.noop", 1, 42, 1, "rogue", now)));

    assertThat(applier.applyAll(batch)).isTrue();

    assertThat(fixture.store.queries().find(done).orElseThrow().state())
        .isEqualTo(JobState.SUCCEEDED);
    assertThat(fixture.store.queries().find(other).orElseThrow().state())
        .isEqualTo(JobState.RUNNING);
    assertThat(meters.counter("shepherd.status.stale.reports").count()).isEqualTo(1.0);
    assertThat(meters.find("shepherd.jobs.succeeded").counter().count()).isEqualTo(1.0);
  }

  @Test
  void aBatchWithAnUnreadableBodyIsDeclinedAndChangesNothing() {
    String id = runningJob("w1");
    long token = tokens.get(id);
    var ok = new StatusEvent.Succeeded(id, "demo.noop", 1, token, 1, "w1", fixture.clock.instant());
    List<StatusApplier.Incoming> batch =
        List.of(
            incoming(ok),
            new StatusApplier.Incoming("{not json".getBytes(StandardCharsets.UTF_8), List.of()));

    assertThat(applier.applyAll(batch)).isFalse();

    assertThat(fixture.store.queries().find(id).orElseThrow().state()).isEqualTo(JobState.RUNNING);
    assertThat(fixture.store.deadJobs().listDead(10)).isEmpty();
  }

  private static StatusApplier.Incoming incoming(StatusEvent event) {
    return new StatusApplier.Incoming(Json.mapper().writeValueAsBytes(event), List.of());
  }

  @Test
  void aMessageCarryingSeveralEventsAppliesEachInOrderWholeOrOneAtATime() {
    String first = runningJob("w1");
    String second = runningJob("w1");
    String third = runningJob("w1");
    var now = fixture.clock.instant();
    byte[] two =
        StatusMessages.encode(
            List.of(
                new StatusEvent.Succeeded(first, "demo.noop", 1, tokens.get(first), 1, "w1", now),
                new StatusEvent.Failed(
                    second, "demo.noop", 1, tokens.get(second), 1, "w1", now, "boom", false)));
    byte[] one =
        StatusMessages.encode(
            List.of(
                new StatusEvent.Succeeded(third, "demo.noop", 1, tokens.get(third), 1, "w1", now)));
    assertThat(new String(two, StandardCharsets.UTF_8)).startsWith("[");
    assertThat(new String(one, StandardCharsets.UTF_8)).startsWith("{");

    assertThat(applier.applyAll(List.of(new StatusApplier.Incoming(two, List.of("t1", "t2")))))
        .isTrue();
    assertThat(applier.apply(one, "q").outcome()).isEqualTo(ReportResult.Outcome.APPLIED);

    assertThat(fixture.store.queries().find(first).orElseThrow().state())
        .isEqualTo(JobState.SUCCEEDED);
    assertThat(fixture.store.queries().find(second).orElseThrow().state()).isEqualTo(JobState.DEAD);
    assertThat(fixture.store.queries().find(third).orElseThrow().state())
        .isEqualTo(JobState.SUCCEEDED);
    // the same message again, one at a time this time: each event a duplicate, nothing changes
    assertThat(applier.apply(two, "q").outcome()).isNotEqualTo(ReportResult.Outcome.APPLIED);
    assertThat(meters.find("shepherd.jobs.succeeded").counter().count()).isEqualTo(2.0);
  }

  @Test
  void anEmptyArrayIsAnUnreadableStatusMessage() {
    assertThat(applier.apply("[]".getBytes(StandardCharsets.UTF_8), "q.status")).isNull();
    assertThat(fixture.store.deadJobs().listDead(10))
        .singleElement()
        .satisfies(d -> assertThat(d.rawMessage()).isEqualTo("[]"));
  }

  @Test
  void aStaleReportIsRefusedAndCounted() {
    String id = runningJob("w1");
    var stale =
        new StatusEvent.Succeeded(id, "demo.noop", 1, 42, 1, "rogue", fixture.clock.instant());
    byte[] body = Json.mapper().writeValueAsBytes(stale);
    assertThat(applier.apply(body, "q").outcome()).isEqualTo(ReportResult.Outcome.STALE);
    assertThat(meters.counter("shepherd.status.stale.reports").count()).isEqualTo(1.0);
    assertThat(fixture.store.queries().find(id).orElseThrow().state()).isEqualTo(JobState.RUNNING);
  }

  /**
   * A worker writes its reports into the store itself (ADR 56), so the broker's {@code user_id}
   * check on the status queue does not stand between a worker and an attempt it never claimed: what
   * refuses a forged report is {@code report.lua}'s fencing token. A rogue worker's outcomes for
   * another worker's attempt, written the way a worker writes them, change nothing; the claimer's
   * own outcome, written the same way, still applies.
   */
  @Test
  void aForgedReportWrittenStraightIntoTheStoreIsRefusedWhileTheClaimersApplies() {
    String id = runningJob("w1");
    long token = tokens.get(id);
    var at = fixture.clock.instant();
    applier.applyEvents(
        List.of(
            new StatusEvent.Succeeded(id, "demo.noop", 1, token + 1, 1, "rogue", at),
            new StatusEvent.Failed(id, "demo.noop", 1, 0, 1, "rogue", at, "forged", false),
            // the claimer's token, leaked, under another worker's id (issue 17)
            new StatusEvent.Succeeded(id, "demo.noop", 1, token, 1, "rogue", at)),
        java.util.Arrays.asList(null, null, null));
    assertThat(meters.counter("shepherd.status.stale.reports").count()).isEqualTo(3.0);
    assertThat(fixture.store.queries().find(id).orElseThrow().state()).isEqualTo(JobState.RUNNING);
    assertThat(fixture.store.leaseRecovery().leasesOf("w1")).hasSize(1);

    applier.applyEvents(
        List.of(new StatusEvent.Succeeded(id, "demo.noop", 1, token, 1, "w1", at)),
        java.util.Arrays.asList((String) null));
    assertThat(fixture.store.queries().find(id).orElseThrow().state())
        .isEqualTo(JobState.SUCCEEDED);
    assertThat(fixture.store.leaseRecovery().leasesOf("w1")).isEmpty();
  }

  @Test
  void theReaperSendsAnExpiredAttemptBackAndTheLastOneToDead() {
    String id = runningJob("w1");
    var reaper =
        new LeaseReaper(
            fixture.store.leaseRecovery(), noWait, new SplittableRandom(1), 100, meters);
    assertThat(reaper.reapOnce()).isZero();
    fixture.clock.advance(TTL.plusSeconds(1));
    assertThat(reaper.reapOnce()).isEqualTo(1);
    var job = fixture.store.queries().find(id).orElseThrow();
    assertThat(job.state()).isEqualTo(JobState.RETRY_WAIT);
    assertThat(job.attempt()).isEqualTo(2);
    assertThat(job.lastError()).contains("lease expired").contains("w1");

    fixture.store.outbox().reserveDue(fixture.store.keys().partitionOf(id), 10, TTL);
    assertThat(fixture.store.leases().claim(id, 2, "w2", TTL))
        .isInstanceOf(ClaimResult.Claimed.class);
    fixture.clock.advance(TTL.plusSeconds(1));
    assertThat(reaper.reapOnce()).isEqualTo(1);
    // the last attempt's outcome may still come (ADR 14): DEAD only once the grace ran out
    assertThat(fixture.store.queries().find(id).orElseThrow().state())
        .isEqualTo(JobState.RETRY_WAIT);
    assertThat(fixture.store.queries().leasesHeld()).isZero();
    fixture.clock.advance(StoreSettings.DEFAULT_LATE_OUTCOME_GRACE.plusSeconds(1));
    fixture.store.outbox().reserveDue(fixture.store.keys().partitionOf(id), 10, TTL);
    assertThat(fixture.store.queries().find(id).orElseThrow().state()).isEqualTo(JobState.DEAD);
    assertThat(fixture.store.deadJobs().listDead(10))
        .extracting(DeadJob::jobId)
        .containsExactly(id);
    assertThat(meters.counter("shepherd.leases.expired").count()).isEqualTo(2.0);
  }

  private WorkerRegistry registry(Duration lostAfter) {
    return new WorkerRegistry(
        new StringRedisTemplate(fixture.redisConnections),
        fixture.store.settings(),
        fixture.clock,
        lostAfter);
  }

  @Test
  void aWorkerHoldingMoreThanItsCapacityHasItsOldestAttemptAbandonedAndReDispatched() {
    var registry = registry(Duration.ofMinutes(5));
    registry.heartbeat(
        new WorkerView("greedy", "host", null, "default", 1, "test", "active", null, null, null));
    String older = runningJob("greedy");
    fixture.clock.advance(Duration.ofSeconds(1));
    String newer = runningJob("greedy");
    var lostWorkers =
        new LostWorkers(
            fixture.store.leaseRecovery(), registry, meters, fixture.clock, Duration.ofSeconds(5));

    // A lease younger than the grace does not count yet (an outcome may be on its way).
    assertThat(lostWorkers.abandonOverCapacity()).isZero();
    fixture.clock.advance(Duration.ofSeconds(6));
    assertThat(lostWorkers.abandonOverCapacity()).isEqualTo(1);
    JobView abandoned = fixture.store.queries().find(older).orElseThrow();
    assertThat(abandoned.state()).isEqualTo(JobState.RETRY_WAIT);
    assertThat(abandoned.attempt()).isEqualTo(2);
    assertThat(abandoned.lastError()).contains("abandoned").contains("greedy");
    assertThat(fixture.store.queries().find(newer).orElseThrow().state())
        .isEqualTo(JobState.RUNNING);
    assertThat(meters.counter("shepherd.attempts.abandoned").count()).isEqualTo(1.0);
    assertThat(lostWorkers.abandonOverCapacity()).isZero();
  }

  @Test
  void aLeaseWhoseOutcomeIsPublishedAndWaitsForTheTrackerIsNotGreed() {
    var registry = registry(Duration.ofMinutes(5));
    registry.heartbeat(
        new WorkerView("busy", "host", null, "default", 1, "test", "active", null, null, null));
    String finished = runningJob("busy");
    long token =
        fixture.store.queries().find(finished).orElseThrow().history().getLast().fencingToken();
    fixture.clock.advance(Duration.ofSeconds(1));
    String next = runningJob("busy");
    assertThat(fixture.store.leases().holdForOutcome(finished, token, TTL)).isTrue();
    var lostWorkers =
        new LostWorkers(
            fixture.store.leaseRecovery(), registry, meters, fixture.clock, Duration.ofSeconds(5));

    fixture.clock.advance(Duration.ofSeconds(6));
    assertThat(lostWorkers.abandonOverCapacity()).isZero();
    assertThat(fixture.store.queries().find(finished).orElseThrow().state())
        .isEqualTo(JobState.RUNNING);
    assertThat(fixture.store.queries().find(next).orElseThrow().state())
        .isEqualTo(JobState.RUNNING);
  }

  @Test
  void aWorkerWhoseHeartbeatStoppedLosesItsLeasesAtOnceNotAfterTheirTtl() {
    var registry = registry(Duration.ofSeconds(10));
    registry.heartbeat(
        new WorkerView("quiet", "host", null, "default", 4, "test", "active", null, null, null));
    String id = runningJob("quiet");
    var lostWorkers = new LostWorkers(fixture.store.leaseRecovery(), registry, meters);
    assertThat(lostWorkers.releaseSilentWorkers()).isZero();

    fixture.clock.advance(Duration.ofSeconds(11)); // silent, while the 30 s lease still runs
    assertThat(lostWorkers.releaseSilentWorkers()).isEqualTo(1);
    JobView job = fixture.store.queries().find(id).orElseThrow();
    assertThat(job.state()).isEqualTo(JobState.RETRY_WAIT);
    assertThat(job.lastError()).contains("worker lost");
    assertThat(registry.find("quiet"))
        .hasValueSatisfying(w -> assertThat(w.state()).isEqualTo("lost"));
    assertThat(lostWorkers.releaseSilentWorkers()).isZero();
  }

  @Test
  void jobsQueuedPastTheirScheduleToStartTimeoutAreRequeuedOnceEvenByTwoRecoveriesAtOnce()
      throws Exception {
    List<String> ids = dispatched(40);
    var first = new StaleQueued(fixture.store.outbox(), List.of("default"), Duration.ofMinutes(5));
    var second = new StaleQueued(fixture.store.outbox(), List.of("default"), Duration.ofMinutes(5));
    assertThat(first.requeueOnce()).isZero();

    fixture.clock.advance(Duration.ofMinutes(6)); // their work messages were lost
    var pool = java.util.concurrent.Executors.newFixedThreadPool(2);
    var a = pool.submit(first::requeueOnce);
    var b = pool.submit(second::requeueOnce);
    assertThat(a.get() + b.get()).isEqualTo(ids.size());
    pool.shutdown();
    assertThat(fixture.store.queries().outboxSize()).isEqualTo(ids.size());
    assertThat(first.requeueOnce()).isZero();
    assertThat(ids)
        .allSatisfy(
            id ->
                assertThat(fixture.store.queries().find(id).orElseThrow().state())
                    .isEqualTo(JobState.QUEUED));
  }

  @Test
  void aBacklogWhoseMessagesAreAllInTheQueueIsNotPublishedAgainHoweverLongItWaits() {
    List<String> ids = dispatched(30);
    String workQueue = fixture.topology.workQueue("default");
    // 25 of their 30 work messages reached the queue; 5 were lost
    var rabbit = new org.springframework.amqp.rabbit.core.RabbitTemplate(fixture.rabbitConnections);
    for (String id : ids.subList(0, 25)) {
      rabbit.convertAndSend("", workQueue, id);
    }
    await().atMost(Duration.ofSeconds(10)).until(() -> fixture.messagesIn(workQueue) == 25);
    var stale = staleQueued(WorkQueueDepth.of(fixture.rabbitConnections, fixture.topology));

    fixture.clock.advance(Duration.ofMinutes(6)); // every one of them waited past the timeout
    assertThat(stale.requeueOnce()).as("as many as lack a message, not all 30").isEqualTo(5);
    assertThat(fixture.store.queries().outboxSize()).isEqualTo(5);

    // the dispatcher publishes the 5 again; all 30 messages then wait in the queue, and however
    // long they wait, nothing more is published again
    for (int partition = 0; partition < fixture.store.outbox().partitions(); partition++) {
      var due = fixture.store.outbox().reserveDue(partition, 100, TTL);
      due.forEach(entry -> rabbit.convertAndSend("", workQueue, entry.jobId()));
      fixture.store.outbox().markDispatched(partition, due);
    }
    await().atMost(Duration.ofSeconds(10)).until(() -> fixture.messagesIn(workQueue) == 30);
    fixture.clock.advance(Duration.ofMinutes(6));
    assertThat(stale.requeueOnce()).isZero();
    fixture.clock.advance(Duration.ofMinutes(6));
    assertThat(stale.requeueOnce()).isZero();
  }

  @Test
  void whileTheBrokerCannotSayWhatTheQueueHoldsNothingIsPublishedAgain() {
    dispatched(12);
    // a topology whose work queue was never declared: the broker answers the passive declare
    // with an error, as it fails to answer while a node fails over
    var elsewhere =
        new Topology(fixture.prefix + "-none", Map.of("default", List.of("demo.noop")), 3);
    var stale = staleQueued(WorkQueueDepth.of(fixture.rabbitConnections, elsewhere));

    fixture.clock.advance(Duration.ofMinutes(6));

    assertThat(stale.requeueOnce()).isZero();
    assertThat(fixture.store.queries().outboxSize()).isZero();
  }

  @Test
  void aBrokerSilentForTooManyPassesInARowLeavesThePoolToTheTimeoutAlone() {
    // a lost message's job must not wait for ever behind a broker that never answers (an account
    // refused the passive declare): nothing for the first passes, then all past the timeout
    List<String> ids = dispatched(12);
    var elsewhere =
        new Topology(fixture.prefix + "-none", Map.of("default", List.of("demo.noop")), 3);
    var stale = staleQueued(WorkQueueDepth.of(fixture.rabbitConnections, elsewhere));
    fixture.clock.advance(Duration.ofMinutes(6));

    for (int pass = 1; pass < StaleQueued.FALLBACK_AFTER_UNANSWERED; pass++) {
      assertThat(stale.requeueOnce()).as("pass %d", pass).isZero();
    }
    assertThat(stale.requeueOnce()).isEqualTo(ids.size());
    assertThat(fixture.store.queries().outboxSize()).isEqualTo(ids.size());
  }

  @Test
  void anAnswerFromTheBrokerStartsTheCountOfSilentPassesAgain() {
    List<String> ids = dispatched(12);
    // silent for all but one of the passes before the fallback, then an answer: a queue that
    // holds all 12 messages, then silent again
    var answers = new java.util.ArrayDeque<OptionalLong>();
    for (int pass = 1; pass < StaleQueued.FALLBACK_AFTER_UNANSWERED; pass++) {
      answers.add(OptionalLong.empty());
    }
    answers.add(OptionalLong.of(ids.size()));
    var stale = staleQueued(p -> answers.isEmpty() ? OptionalLong.empty() : answers.poll());
    fixture.clock.advance(Duration.ofMinutes(6));

    for (int pass = 1; pass <= StaleQueued.FALLBACK_AFTER_UNANSWERED; pass++) {
      assertThat(stale.requeueOnce()).as("pass %d", pass).isZero();
    }
    for (int pass = 1; pass < StaleQueued.FALLBACK_AFTER_UNANSWERED; pass++) {
      assertThat(stale.requeueOnce()).as("silent again, pass %d", pass).isZero();
    }
    assertThat(stale.requeueOnce()).isEqualTo(ids.size());
  }

  @Test
  void withoutABrokerToAskEveryJobQueuedPastTheTimeoutIsPublishedAgain() {
    List<String> ids = dispatched(12);
    var stale = staleQueued(WorkQueueDepth.UNKNOWN);

    fixture.clock.advance(Duration.ofMinutes(6));

    assertThat(stale.requeueOnce()).isEqualTo(ids.size());
  }

  /** A stale-queued pass over pool "default" with a 5 min timeout that asks {@code depth}. */
  private StaleQueued staleQueued(WorkQueueDepth depth) {
    return new StaleQueued(
        fixture.store.outbox(),
        () -> List.of("default"),
        Duration.ofMinutes(5),
        StaleQueued.DEFAULT_BATCH_SIZE,
        fixture.store.queries(),
        depth);
  }

  /** Submits {@code n} jobs and marks them dispatched, as if their work messages had been sent. */
  private List<String> dispatched(int n) {
    List<String> ids = new java.util.ArrayList<>();
    for (int i = 0; i < n; i++) {
      String id =
          fixture
              .store
              .submissions()
              .submit(new NewJob("demo.noop", "default", "{}", null, null, 3))
              .jobId();
      int partition = fixture.store.keys().partitionOf(id);
      fixture
          .store
          .outbox()
          .markDispatched(partition, fixture.store.outbox().reserveDue(partition, 100, TTL));
      ids.add(id);
    }
    assertThat(fixture.store.queries().outboxSize()).isZero();
    return ids;
  }

  @Test
  void aDeadLetterBecomesARecordWithTheBrokersReason() {
    var intake = new DeadLetterIntake(fixture.store.deadJobs(), meters);
    byte[] body = "{\"jobId\":\"03-abc\",\"type\":\"demo.noop\"}".getBytes(StandardCharsets.UTF_8);
    DeadJob record =
        intake.record(
            body,
            Map.of(
                "x-first-death-queue", "shepherd.work.default",
                "x-first-death-reason", "delivery_limit",
                "x-death", List.of(Map.of("count", 1L))));
    assertThat(record.jobId()).isEqualTo("03-abc");
    assertThat(record.reason()).contains("delivery limit").contains("shepherd.work.default");
    assertThat(fixture.store.deadJobs().listDead(10)).containsExactly(record);
  }
}
