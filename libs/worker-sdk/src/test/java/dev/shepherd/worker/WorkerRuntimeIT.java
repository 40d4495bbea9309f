package dev.shepherd.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.shepherd.messaging.ConfirmingPublisher;
import dev.shepherd.model.BatchLimits;
import dev.shepherd.model.DeadJob;
import dev.shepherd.model.JobEvent;
import dev.shepherd.model.JobState;
import dev.shepherd.model.Json;
import dev.shepherd.model.MetricNames;
import dev.shepherd.model.PhaseView;
import dev.shepherd.model.StatusEvent;
import dev.shepherd.model.TransitionRecord;
import dev.shepherd.model.WorkMessage;
import dev.shepherd.store.NewJob;
import dev.shepherd.store.ReportResult;
import dev.shepherd.store.Store;
import dev.shepherd.testsupport.RabbitCleanup;
import dev.shepherd.testsupport.SettableClock;
import dev.shepherd.testsupport.TcpProxy;
import dev.shepherd.testsupport.WithRealServices;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.springframework.amqp.rabbit.connection.CachingConnectionFactory;
import org.springframework.amqp.rabbit.core.RabbitAdmin;
import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;
import org.springframework.data.redis.core.StringRedisTemplate;
import tools.jackson.databind.JsonNode;

/**
 * The worker runtime against a real broker and Redis: claim, run, report, refuse duplicates, record
 * unreadable input, lose a lease, keep to its capacity, drain.
 */
@WithRealServices
class WorkerRuntimeIT extends WorkerRuntimeFixture {

  /** A test payload with one required-looking field, to see binding refuse what does not fit. */
  record Greeting(String name) {}

  // ---- the behaviours ------------------------------------------------------------------------

  @Test
  void aDispatchedJobIsClaimedRunAndReportsEachPhaseThenSucceedsUnderItsClaimsToken() {
    AtomicInteger runs = new AtomicInteger();
    start(
        2,
        Duration.ofSeconds(30),
        handler(
            "test.phases",
            job -> {
              runs.incrementAndGet();
              job.phase("download", () -> {});
              job.progress(50, "half way");
              job.phase("render", () -> {});
            }));

    WorkMessage work = dispatch("test.phases", "{}");
    List<Received> events = awaitEvents(work.jobId(), es -> hasOutcome(es));

    assertThat(events)
        .extracting(r -> r.event().eventName())
        .containsExactly(
            "PHASE_STARTED",
            "PHASE_ENDED",
            "PROGRESS",
            "PHASE_STARTED",
            "PHASE_ENDED",
            "SUCCEEDED");
    assertThat(events)
        .extracting(r -> r.event().sequence())
        .containsExactly(1L, 2L, 3L, 4L, 5L, 6L);
    assertThat(events)
        .allSatisfy(
            r -> {
              StatusEvent e = r.event();
              assertThat(e.jobId()).isEqualTo(work.jobId());
              assertThat(e.type()).isEqualTo("test.phases");
              assertThat(e.attempt()).isEqualTo(1);
              assertThat(e.workerId()).isEqualTo("w-0");
              assertThat(e.fencingToken()).isEqualTo(events.get(0).event().fencingToken());
              assertThat(r.routingKey())
                  .isEqualTo(topology.statusRoutingKey("test.phases", e.eventName()));
              assertThat(r.messageId())
                  .isEqualTo(work.jobId() + ":" + e.attempt() + ":" + e.sequence());
            });
    // The store applies every event: its fencing check proves the token is the job's own claim.
    assertThat(events)
        .extracting(r -> store.reports().report(r.event(), Duration.ZERO).outcome())
        .containsOnly(ReportResult.Outcome.APPLIED);
    var job = store.queries().find(work.jobId()).orElseThrow();
    assertThat(job.state()).isEqualTo(JobState.SUCCEEDED);
    assertThat(job.phases()).extracting(PhaseView::name).containsExactly("download", "render");
    assertThat(runs).hasValue(1);
    assertThat(meters.find("shepherd.phase.duration").tag("phase", "render").timer().count())
        .isEqualTo(1);
  }

  @Test
  void aPublishedOutcomeKeepsItsLeaseUntilTheTrackerAppliesItSoALagCausesNoRerun() {
    Duration ttl = Duration.ofMillis(1200);
    start(1, ttl, handler("test.phases", job -> job.progress(50, "half way")));
    WorkMessage work = dispatch("test.phases", "{}");
    List<Received> events = awaitEvents(work.jobId(), this::hasOutcome);

    // Nobody applies the outcome for several TTLs (a status-tracker restarting): the finished
    // attempt still holds its lease, so the reaper has nothing to take back.
    int partition = store.keys().partitionOf(work.jobId());
    await()
        .during(ttl.multipliedBy(4))
        .atMost(ttl.multipliedBy(8))
        .until(
            () -> store.leaseRecovery().reapExpiredLeases(partition, 10, Duration.ZERO).isEmpty());
    assertThat(store.queries().find(work.jobId()).orElseThrow().state())
        .isEqualTo(JobState.RUNNING);
    assertThat(store.leaseRecovery().leasesOf("w-0"))
        .singleElement()
        .satisfies(lease -> assertThat(lease.outcomePublished()).as("marked as waiting").isTrue());

    // The tracker catches up: the outcome is the claim's own, and the worker stops renewing
    // without taking the refused renewal for a lost lease.
    assertThat(events)
        .extracting(r -> store.reports().report(r.event(), Duration.ZERO).outcome())
        .containsOnly(ReportResult.Outcome.APPLIED);
    assertThat(store.queries().find(work.jobId()).orElseThrow().state())
        .isEqualTo(JobState.SUCCEEDED);
    await()
        .during(ttl)
        .atMost(ttl.multipliedBy(3))
        .until(() -> meters.counter(MetricNames.LEASES_LOST).count() == 0);
  }

  @Test
  void aDuplicateDeliveryOfAClaimedAttemptIsAckedAndNotRun() throws Exception {
    AtomicInteger runs = new AtomicInteger();
    CountDownLatch release = new CountDownLatch(1);
    start(
        2,
        Duration.ofSeconds(30),
        handler(
            "test.block",
            job -> {
              runs.incrementAndGet();
              release.await();
            }));
    WorkMessage work = dispatch("test.block", "{}");
    await().atMost(WAIT).untilAsserted(() -> assertThat(runs).hasValue(1));

    publishWork(Json.mapper().writeValueAsBytes(work), "test.block"); // the broker redelivers

    await()
        .atMost(WAIT)
        .until(() -> meters.counter("shepherd.worker.duplicate.deliveries").count() == 1.0);
    assertThat(RabbitCleanup.messageCount(rabbit, topology.workQueue("default"))).isZero();
    release.countDown();
    assertThat(awaitEvents(work.jobId(), this::hasOutcome))
        .extracting(r -> r.event().eventName())
        .containsExactly("SUCCEEDED");
    assertThat(runs).hasValue(1);
  }

  @Test
  void aWorkerWhoseConnectionDropsWithinTheAckHoldLosesNoJobAndNothingRunsTwice() throws Exception {
    // What the broker sees when a worker dies during a short job: the claimed delivery, unacked
    // within the hold, goes back to the queue. The lease still says who owns the job.
    AtomicInteger runs = new AtomicInteger();
    CountDownLatch proceed = new CountDownLatch(1);
    JobHandler<JsonNode> blocking =
        handler(
            "test.block",
            job -> {
              runs.incrementAndGet();
              proceed.await();
            });
    CachingConnectionFactory ownConnection = endpoints.newRabbitConnectionFactory();
    closeLast.add(ownConnection::destroy);
    start(
        new WorkerSettings("w-dropped", "default", 1, Duration.ofSeconds(30))
            .withAckHold(Duration.ofMinutes(5)),
        ownConnection,
        blocking);
    WorkMessage work = dispatch("test.block", "{}");
    await().atMost(WAIT).untilAsserted(() -> assertThat(runs).hasValue(1));
    start(1, Duration.ofSeconds(30), blocking); // the worker that gets the requeued delivery

    ownConnection.resetConnection();

    // its claim is refused (the first worker's lease holds): acked as a duplicate, not run
    await()
        .atMost(WAIT)
        .until(() -> meters.counter(MetricNames.DUPLICATE_DELIVERIES).count() == 1.0);
    await()
        .atMost(WAIT)
        .until(() -> RabbitCleanup.messageCount(rabbit, topology.workQueue("default")) == 0);
    proceed.countDown(); // the first worker's job ends; its ack fails and is only logged
    assertThat(awaitEvents(work.jobId(), this::hasOutcome))
        .extracting(r -> r.event().eventName())
        .containsExactly("SUCCEEDED");
    assertThat(runs).hasValue(1);
    assertThat(store.queries().find(work.jobId()).orElseThrow().history())
        .filteredOn(h -> h.event() == JobEvent.CLAIM)
        .hasSize(1);
  }

  @Test
  void aJobStoppedPastTheGraceWithinTheAckHoldHasItsDeliveryAckedNotReturned() throws Exception {
    CountDownLatch started = new CountDownLatch(1);
    WorkerRuntime runtime =
        start(
            new WorkerSettings("w-0", "default", 1, Duration.ofSeconds(30))
                .withAckHold(Duration.ofMinutes(5)),
            rabbit,
            handler(
                "test.block",
                job -> {
                  started.countDown();
                  new CountDownLatch(1).await();
                }));
    WorkMessage work = dispatch("test.block", "{}");
    assertThat(started.await(WAIT.toSeconds(), TimeUnit.SECONDS)).isTrue();

    runtime.stop(Duration.ofMillis(300));

    // returned, it would wait in the queue (no consumer left) having spent one delivery of its
    // limit; the released lease already made the job due again
    await()
        .during(Duration.ofMillis(800))
        .atMost(WAIT)
        .until(() -> RabbitCleanup.messageCount(rabbit, topology.workQueue("default")) == 0);
    assertThat(store.queries().find(work.jobId()).orElseThrow().state())
        .isEqualTo(JobState.RETRY_WAIT);
  }

  @Test
  void aRedeliveryOfAnAttemptWhoseOutcomeWaitsForTheTrackerIsAckedAndNotRun() throws Exception {
    AtomicInteger runs = new AtomicInteger();
    start(2, Duration.ofSeconds(30), handler("test.slow", job -> runs.incrementAndGet()));
    WorkMessage work = dispatch("test.slow", "{}");
    awaitEvents(work.jobId(), this::hasOutcome);

    // the store gives this worker its own token again (its claim may have lost its reply)
    publishWork(Json.mapper().writeValueAsBytes(work), "test.slow");

    await()
        .atMost(WAIT)
        .until(() -> meters.counter("shepherd.worker.duplicate.deliveries").count() == 1.0);
    assertThat(runs).hasValue(1);
    assertThat(store.queries().find(work.jobId()).orElseThrow().history())
        .filteredOn(h -> h.event() == dev.shepherd.model.JobEvent.CLAIM)
        .hasSize(1);
  }

  @Test
  void anUnreadableWorkMessageBecomesADeadRecordAndTheNextMessageIsStillRun() {
    start(1, Duration.ofSeconds(30), handler("test.phases", job -> {}));

    publishWork("not json at all".getBytes(StandardCharsets.UTF_8), "test.phases");
    WorkMessage good = dispatch("test.phases", "{}");

    assertThat(awaitEvents(good.jobId(), this::hasOutcome))
        .extracting(r -> r.event().eventName())
        .containsExactly("SUCCEEDED");
    List<DeadJob> dead = store.deadJobs().listDead(10);
    assertThat(dead).hasSize(1);
    assertThat(dead.get(0).rawMessage()).isEqualTo("not json at all");
    assertThat(dead.get(0).reason()).startsWith("unreadable work message:");
    assertThat(dead.get(0).source()).isEqualTo(topology.workQueue("default"));
    assertThat(meters.counter("shepherd.unreadable.messages", "source", "work").count())
        .isEqualTo(1.0);
    assertThat(RabbitCleanup.messageCount(rabbit, topology.workQueue("default"))).isZero();
  }

  @Test
  void aWorkerThatLostItsLeaseInterruptsItsHandlerAndReportsNothingMore() throws Exception {
    CountDownLatch started = new CountDownLatch(1);
    AtomicBoolean interrupted = new AtomicBoolean();
    AtomicBoolean cancelledSeen = new AtomicBoolean();
    CountDownLatch stopped = new CountDownLatch(1);
    start(
        1,
        Duration.ofSeconds(3),
        handler(
            "test.block",
            job -> {
              job.phase("wait", () -> {});
              started.countDown();
              try {
                new CountDownLatch(1).await(); // blocks until the runtime interrupts it
              } catch (InterruptedException e) {
                interrupted.set(true);
              }
              cancelledSeen.set(
                  job.isCancelled()
                      && job.cancellationReason().orElse("").contains("another attempt owns"));
              job.progress(100, "done anyway"); // must not be published
              stopped.countDown();
              // returning normally would mean SUCCEEDED, had the lease not been lost
            }),
        handler("test.phases", job -> {}));
    WorkMessage work = dispatch("test.block", "{}");
    assertThat(started.await(WAIT.toSeconds(), TimeUnit.SECONDS)).isTrue();

    // Another recovery instance, whose clock is past the TTL, takes the lease back.
    var later = new SettableClock(Clock.systemUTC().instant().plusSeconds(5));
    assertThat(
            store(later)
                .leaseRecovery()
                .reapExpiredLeases(store.keys().partitionOf(work.jobId()), 10, Duration.ZERO))
        .hasSize(1);

    assertThat(stopped.await(WAIT.toSeconds(), TimeUnit.SECONDS)).isTrue();
    assertThat(interrupted).isTrue();
    assertThat(cancelledSeen).isTrue();
    assertThat(meters.counter("shepherd.worker.leases.lost").count()).isEqualTo(1.0);
    // The single consumer runs the next job only after it finished with the first: once the next
    // job's outcome is here, everything the first attempt could have published would be too.
    WorkMessage next = dispatch("test.phases", "{}");
    awaitEvents(next.jobId(), this::hasOutcome);
    assertThat(eventsOf(work.jobId()))
        .extracting(r -> r.event().eventName())
        .containsExactly("PHASE_STARTED", "PHASE_ENDED");
  }

  @Test
  void aWorkerRunsNoMoreJobsAtOnceThanItsCapacity() {
    AtomicInteger now = new AtomicInteger();
    List<Integer> concurrency = new CopyOnWriteArrayList<>();
    CountDownLatch gate = new CountDownLatch(1);
    WorkerRuntime runtime =
        start(
            2,
            Duration.ofSeconds(30),
            handler(
                "test.slow",
                job -> {
                  concurrency.add(now.incrementAndGet());
                  try {
                    gate.await(
                        5, TimeUnit.SECONDS); // work that takes until the test opens the gate
                  } finally {
                    now.decrementAndGet();
                  }
                }));
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < 6; i++) {
      ids.add(dispatch("test.slow", "{}").jobId());
    }

    await().atMost(WAIT).until(() -> runtime.runningCount() == 2);
    // the claims, not only the handler calls, are bounded: the other jobs wait unclaimed
    assertThat(store.queries().countInState(JobState.RUNNING)).isEqualTo(2);
    gate.countDown();
    for (String id : ids) {
      assertThat(awaitEvents(id, this::hasOutcome))
          .extracting(r -> r.event().eventName())
          .containsExactly("SUCCEEDED");
    }
    assertThat(concurrency).hasSize(6).allSatisfy(n -> assertThat(n).isLessThanOrEqualTo(2));
  }

  @Test
  void aPayloadThatDoesNotBindFailsPermanently() {
    AtomicInteger runs = new AtomicInteger();
    start(
        1,
        Duration.ofSeconds(30),
        new JobHandler<Greeting>() {
          public String type() {
            return "test.typed";
          }

          public Class<Greeting> payloadType() {
            return Greeting.class;
          }

          public void handle(JobContext<Greeting> job) {
            runs.incrementAndGet();
          }
        });

    WorkMessage unbound = dispatch("test.typed", "{\"name\":\"x\",\"colour\":\"red\"}");
    WorkMessage fine = dispatch("test.typed", "{\"name\":\"x\"}");

    assertThat(awaitEvents(unbound.jobId(), this::hasOutcome).getLast().event())
        .isInstanceOfSatisfying(
            StatusEvent.Failed.class,
            f -> {
              assertThat(f.retryable()).isFalse();
              assertThat(f.error()).contains("Greeting").contains("colour");
            });
    assertThat(awaitEvents(fine.jobId(), this::hasOutcome).getLast().event().eventName())
        .isEqualTo("SUCCEEDED");
    assertThat(runs).hasValue(1);
  }

  @Test
  void aTransactionReachesItsBatchHandlerInOrderAndAPlainHandlerFailsItWithoutRunningIt() {
    List<Batch<JsonNode>> batches = new CopyOnWriteArrayList<>();
    AtomicInteger plainRuns = new AtomicInteger();
    start(
        1,
        Duration.ofSeconds(30),
        new BatchHandler<JsonNode>() {
          public String type() {
            return "test.batch";
          }

          public Class<JsonNode> payloadType() {
            return JsonNode.class;
          }

          public void handle(Batch<JsonNode> batch, JobContext<JsonNode> job) {
            batches.add(batch);
          }
        },
        handler("test.plain", job -> plainRuns.incrementAndGet()));
    var limits = new BatchLimits(5, 0);
    List<String> keyed = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      keyed.add(submitKeyed("test.batch", "{\"n\":" + i + "}", "k-batch", limits));
    }
    String plainHead = submitKeyed("test.plain", "{}", "k-plain", limits);
    String plainMember = submitKeyed("test.plain", "{}", "k-plain", limits);
    publishDue(keyed.getFirst());
    publishDue(plainHead);

    assertThat(awaitEvents(keyed.getFirst(), this::hasOutcome).getLast().event().eventName())
        .isEqualTo("SUCCEEDED");
    assertThat(batches).hasSize(1);
    Batch<JsonNode> batch = batches.getFirst();
    assertThat(batch.jobs()).extracting(Batch.Job::jobId).containsExactlyElementsOf(keyed);
    assertThat(batch.payloads()).extracting(p -> p.get("n").asInt()).containsExactly(0, 1, 2);
    assertThat(batch.transactionId())
        .isEqualTo(store.queries().find(keyed.getLast()).orElseThrow().transactionId());

    assertThat(awaitEvents(plainHead, this::hasOutcome).getLast().event())
        .isInstanceOfSatisfying(
            StatusEvent.Failed.class,
            f -> {
              assertThat(f.retryable()).isFalse();
              assertThat(f.error()).contains("takes batches").contains("is no BatchHandler");
            });
    assertThat(plainRuns).as("neither job ran").hasValue(0);
    assertThat(store.queries().find(plainMember).orElseThrow().transactionId()).isNotNull();
  }

  /** Stores a job with an ordering key of a type that takes batches of {@code limits}. */
  private String submitKeyed(String type, String payloadJson, String key, BatchLimits limits) {
    return store
        .submissions()
        .submit(
            new NewJob(type, "default", payloadJson, null, null, 3)
                .withOrderingKey(key)
                .withBatch(limits))
        .jobId();
  }

  @Test
  void aWorkerWithoutTheHandlerGivesTheDeliveryBackUnclaimedForAWorkerThatHasOne() {
    // A rolling deploy: w-0 runs the old version, which lacks the new type's handler.
    start(1, Duration.ofSeconds(30), handler("test.phases", job -> {}));
    AtomicInteger runs = new AtomicInteger();
    start(
        1,
        Duration.ofSeconds(30),
        handler(
            "test.unhandled",
            job -> {
              runs.incrementAndGet();
              new CountDownLatch(1).await(100, TimeUnit.MILLISECONDS); // the job's work
            }));
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < 6; i++) {
      ids.add(dispatch("test.unhandled", "{}").jobId());
    }

    for (String id : ids) {
      List<Received> events = awaitEvents(id, this::hasOutcome, Duration.ofSeconds(60));
      assertThat(events.getLast().event().eventName()).isEqualTo("SUCCEEDED");
      assertThat(events.getLast().event().workerId()).isEqualTo("w-1");
      events.forEach(r -> store.reports().report(r.event(), Duration.ZERO));
      // never claimed by the worker without the handler: one attempt, one claim, by w-1
      assertThat(store.queries().find(id).orElseThrow().history())
          .filteredOn(h -> h.event() == JobEvent.CLAIM)
          .singleElement()
          .satisfies(h -> assertThat(h.reason()).isEqualTo("w-1"));
    }
    assertThat(runs).hasValue(6);
    assertThat(meters.counter(MetricNames.DELIVERIES_GIVEN_BACK, "type", "test.unhandled").count())
        .as("w-0 received some and gave them back")
        .isPositive();
  }

  @Test
  void aTypeNoWorkerHandlesGoesDeadWithNoHandlerOnItsLastDeliveryNotThroughTheDeadLetterQueue() {
    start(1, Duration.ofSeconds(30), handler("test.phases", job -> {}));

    WorkMessage unhandled = dispatch("test.unhandled", "{}");

    List<Received> events =
        awaitEvents(unhandled.jobId(), this::hasOutcome, Duration.ofSeconds(60));
    assertThat(events.getLast().event())
        .isInstanceOfSatisfying(
            StatusEvent.Failed.class,
            f -> {
              assertThat(f.retryable()).isFalse();
              assertThat(f.error()).startsWith("no handler for job type test.unhandled");
            });
    events.forEach(r -> store.reports().report(r.event(), Duration.ZERO));
    assertThat(store.queries().find(unhandled.jobId()).orElseThrow().state())
        .isEqualTo(JobState.DEAD);
    assertThat(store.deadJobs().findDead(unhandled.jobId()))
        .hasValueSatisfying(
            dead -> assertThat(dead.reason()).contains("no handler for job type test.unhandled"));
    // given back on every delivery but the last one the queue allows, which it claimed
    assertThat(meters.counter(MetricNames.DELIVERIES_GIVEN_BACK, "type", "test.unhandled").count())
        .isEqualTo(topology.deliveryLimit());
    assertThat(RabbitCleanup.messageCount(rabbit, topology.deadQueue())).isZero();
  }

  @Test
  void aHandlersExceptionBecomesAFailedEventThatSaysWhetherToRetry() {
    start(
        1,
        Duration.ofSeconds(30),
        handler(
            "test.fail",
            job -> {
              String how = job.payload().path("how").asString();
              job.phase(
                  "work",
                  () -> {
                    switch (how) {
                      case "permanent" -> throw new PermanentJobException("poison payload");
                      case "retryable" -> throw new RetryableJobException("upstream 503");
                      default -> throw new IllegalStateException("bug");
                    }
                  });
            }));

    WorkMessage permanent = dispatch("test.fail", "{\"how\":\"permanent\"}");
    WorkMessage retryable = dispatch("test.fail", "{\"how\":\"retryable\"}");
    WorkMessage bug = dispatch("test.fail", "{\"how\":\"bug\"}");

    List<Received> permanentEvents = awaitEvents(permanent.jobId(), this::hasOutcome);
    assertThat(permanentEvents)
        .extracting(r -> r.event().eventName())
        .containsExactly("PHASE_STARTED", "PHASE_ENDED", "FAILED");
    assertThat(permanentEvents.getLast().event())
        .isEqualTo(failed(permanentEvents, "poison payload", false));
    List<Received> retryableEvents = awaitEvents(retryable.jobId(), this::hasOutcome);
    assertThat(retryableEvents.getLast().event())
        .isEqualTo(failed(retryableEvents, "upstream 503", true));
    List<Received> bugEvents = awaitEvents(bug.jobId(), this::hasOutcome);
    assertThat(bugEvents.getLast().event())
        .isEqualTo(failed(bugEvents, "IllegalStateException: bug", true));
  }

  @Test
  void aStoppingWorkerLetsItsRunningJobFinishAndReport() throws Exception {
    CountDownLatch started = new CountDownLatch(1);
    WorkerRuntime runtime =
        start(
            1,
            Duration.ofSeconds(30),
            handler(
                "test.slow",
                job -> {
                  started.countDown();
                  new CountDownLatch(1).await(300, TimeUnit.MILLISECONDS); // the job's work
                }));
    WorkMessage work = dispatch("test.slow", "{}");
    assertThat(started.await(WAIT.toSeconds(), TimeUnit.SECONDS)).isTrue();

    runtime.stop(Duration.ofSeconds(10));

    assertThat(runtime.isRunning()).isFalse();
    assertThat(awaitEvents(work.jobId(), this::hasOutcome))
        .extracting(r -> r.event().eventName())
        .containsExactly("SUCCEEDED");
  }

  @Test
  void aJobStillRunningWhenTheGraceRunsOutIsCancelledAndReleasedAtOnce() throws Exception {
    CountDownLatch started = new CountDownLatch(1);
    AtomicBoolean interrupted = new AtomicBoolean();
    WorkerRuntime runtime =
        start(
            1,
            Duration.ofSeconds(30),
            handler(
                "test.block",
                job -> {
                  started.countDown();
                  try {
                    new CountDownLatch(1).await();
                  } catch (InterruptedException e) {
                    interrupted.set(true);
                  }
                }));
    WorkMessage work = dispatch("test.block", "{}");
    assertThat(started.await(WAIT.toSeconds(), TimeUnit.SECONDS)).isTrue();

    runtime.stop(Duration.ofMillis(300));

    await().atMost(WAIT).untilTrue(interrupted);
    // released, not left to its 30 s TTL: the job can run again elsewhere right away
    assertThat(store.queries().find(work.jobId()).orElseThrow().state())
        .isEqualTo(JobState.RETRY_WAIT);
    assertThat(eventsOf(work.jobId())).isEmpty();
    assertThat(registry().find("w-0")).isEmpty();
  }

  @Test
  void aWorkerCutOffFromRedisStopsItsHandlerWhileItsLeaseStillHoldsAndTheJobSucceedsElsewhere()
      throws Exception {
    Duration ttl = Duration.ofSeconds(4);
    CountDownLatch startedOnA = new CountDownLatch(1);
    CountDownLatch stoppedOnA = new CountDownLatch(1);
    AtomicBoolean interrupted = new AtomicBoolean();
    var reason = new java.util.concurrent.atomic.AtomicReference<String>();
    var leaseWhenStopped = new java.util.concurrent.atomic.AtomicReference<String>();
    var leaseMillisLeftWhenStopped = new java.util.concurrent.atomic.AtomicLong();
    AtomicInteger runsOnB = new AtomicInteger();
    JobHandler<JsonNode> longJob =
        handler(
            "test.block",
            job -> {
              if (job.workerId().equals("w-1")) {
                runsOnB.incrementAndGet();
                return;
              }
              job.phase("wait", () -> {});
              startedOnA.countDown();
              try {
                new CountDownLatch(1).await(); // a long job: runs until the runtime interrupts it
              } catch (InterruptedException e) {
                interrupted.set(true);
              }
              reason.set(job.cancellationReason().orElse(null));
              // Read through the test's own Redis connection: the lease this handler ran under.
              String leaseKey = leaseKey(job.jobId());
              var direct = new StringRedisTemplate(redis);
              leaseWhenStopped.set(direct.opsForValue().get(leaseKey));
              leaseMillisLeftWhenStopped.set(direct.getExpire(leaseKey, TimeUnit.MILLISECONDS));
              stoppedOnA.countDown();
              // returning normally would report SUCCEEDED, had the attempt not been cancelled
            });
    TcpProxy proxy = TcpProxy.to(endpoints.redisHost(), endpoints.redisPort());
    closeLast.add(proxy);
    LettuceConnectionFactory cutOffRedis = redisThrough(proxy, ttl);
    closeLast.add(cutOffRedis::destroy);
    Store cutOffStore = store(cutOffRedis, Clock.systemUTC());
    WorkerRuntime a =
        start(
            new WorkerSettings("w-0", "default", 1, ttl),
            cutOffStore,
            registry(cutOffRedis),
            longJob);
    WorkMessage work = dispatch("test.block", "{}");
    assertThat(startedOnA.await(WAIT.toSeconds(), TimeUnit.SECONDS)).isTrue();
    long tokenOnA =
        store.queries().find(work.jobId()).orElseThrow().history().stream()
            .filter(h -> h.event() == JobEvent.CLAIM)
            .toList()
            .getLast()
            .fencingToken();

    proxy.blackhole(); // worker A's Redis traffic vanishes; its broker connection stays up

    assertThat(stoppedOnA.await(WAIT.toSeconds(), TimeUnit.SECONDS)).isTrue();
    assertThat(interrupted).isTrue();
    assertThat(reason.get()).contains("could not be renewed");
    // The handler stopped while the lease was still A's own in Redis: before the TTL ended, so
    // before anyone could take the job over.
    assertThat(leaseWhenStopped.get()).isEqualTo("w-0|" + tokenOnA);
    assertThat(leaseMillisLeftWhenStopped.get()).isPositive();
    assertThat(meters.counter(MetricNames.LEASES_LOST).count()).isEqualTo(1.0);

    // A stays cut off (it stops consuming, so the next attempt goes to B); B comes up.
    var stopping = java.util.concurrent.CompletableFuture.runAsync(() -> a.stop(Duration.ZERO));
    await().atMost(WAIT).until(() -> !a.isRunning());
    start(new WorkerSettings("w-1", "default", 1, ttl), store, registry(), longJob);
    // The recovery service's reaper takes the expired lease back and the job is dispatched again.
    int partition = store.keys().partitionOf(work.jobId());
    await()
        .atMost(WAIT)
        .pollInterval(Duration.ofMillis(200))
        .until(
            () -> !store.leaseRecovery().reapExpiredLeases(partition, 10, Duration.ZERO).isEmpty());
    publishDue(work.jobId());

    List<Received> events =
        awaitEvents(
            work.jobId(),
            es -> es.stream().anyMatch(r -> r.event() instanceof StatusEvent.Succeeded));
    events.forEach(
        r -> store.reports().report(r.event(), Duration.ZERO)); // as the status-tracker does
    var job = store.queries().find(work.jobId()).orElseThrow();
    assertThat(job.state()).isEqualTo(JobState.SUCCEEDED);
    assertThat(runsOnB).hasValue(1);
    assertThat(events)
        .filteredOn(r -> r.event().attempt() == 1)
        .extracting(r -> r.event().eventName())
        .containsExactly("PHASE_STARTED", "PHASE_ENDED");
    var claims = job.history().stream().filter(h -> h.event() == JobEvent.CLAIM).toList();
    assertThat(claims).extracting(TransitionRecord::attempt).containsExactly(1, 2);
    assertThat(job.history())
        .filteredOn(h -> h.event() == JobEvent.SUCCEED)
        .singleElement()
        .satisfies(
            h -> {
              assertThat(h.attempt()).isEqualTo(2);
              assertThat(h.fencingToken()).isEqualTo(claims.get(1).fencingToken());
            });
    assertThat(job.history())
        .filteredOn(h -> h.event() == JobEvent.LEASE_EXPIRED)
        .singleElement()
        .satisfies(h -> assertThat(h.attempt()).isEqualTo(1));
    proxy.pass();
    stopping.get(WAIT.toSeconds(), TimeUnit.SECONDS);
  }

  @Test
  void aClaimWhoseReplyWasLostIsClaimedAgainByTheSameWorkerAndRunsWithoutWaitingForItsLease() {
    Duration ttl = Duration.ofSeconds(30); // a lost claim must not cost a lease TTL
    TcpProxy proxy = TcpProxy.to(endpoints.redisHost(), endpoints.redisPort());
    closeLast.add(proxy);
    LettuceConnectionFactory flakyRedis = redisThrough(proxy, Duration.ofSeconds(4));
    closeLast.add(flakyRedis::destroy);
    Store flakyStore = store(flakyRedis, Clock.systemUTC());
    AtomicInteger runs = new AtomicInteger();
    start(
        new WorkerSettings("w-0", "default", 1, ttl),
        flakyStore,
        registry(flakyRedis),
        handler("test.phases", job -> runs.incrementAndGet()));

    proxy.dropReplies(); // the claim reaches Redis and runs; its reply never comes back
    WorkMessage work = dispatch("test.phases", "{}");
    await()
        .atMost(WAIT)
        .until(() -> store.queries().find(work.jobId()).orElseThrow().state() == JobState.RUNNING);
    proxy.pass(); // the worker's claim has failed (time-out) or will; its connection is reset

    List<Received> events = awaitEvents(work.jobId(), this::hasOutcome);
    assertThat(events.getLast().event().eventName()).isEqualTo("SUCCEEDED");
    events.forEach(r -> store.reports().report(r.event(), Duration.ZERO));
    var job = store.queries().find(work.jobId()).orElseThrow();
    assertThat(job.state()).isEqualTo(JobState.SUCCEEDED);
    assertThat(runs).hasValue(1);
    var claims = job.history().stream().filter(h -> h.event() == JobEvent.CLAIM).toList();
    assertThat(claims).singleElement().satisfies(c -> assertThat(c.attempt()).isEqualTo(1));
    assertThat(job.history())
        .filteredOn(h -> h.event() == JobEvent.SUCCEED)
        .singleElement()
        .satisfies(h -> assertThat(h.fencingToken()).isEqualTo(claims.get(0).fencingToken()));
  }

  @Test
  void noShortJobWaitsBehindALongJobWhileAnotherWorkerHasAFreeSlot() {
    // Two workers of capacity 1; long (10 s) and short (50 ms) jobs interleaved. A worker that
    // took more deliveries than it had free slots would keep a short job behind its long one
    // while the other worker ran later jobs.
    Duration longJob = Duration.ofSeconds(10);
    Map<String, Run> runs = new java.util.concurrent.ConcurrentHashMap<>();
    JobHandler<JsonNode> timed =
        handler(
            "test.slow",
            job -> {
              long began = System.nanoTime();
              new CountDownLatch(1).await(job.payload().path("ms").asLong(), TimeUnit.MILLISECONDS);
              runs.put(job.jobId(), new Run(job.workerId(), began, System.nanoTime()));
            });
    start(1, Duration.ofSeconds(30), timed);
    start(1, Duration.ofSeconds(30), timed);
    await().atMost(WAIT).until(() -> consumers(topology.workQueue("default")) == 2);

    Map<String, Long> publishedAt = new java.util.LinkedHashMap<>();
    List<String> shorts = new ArrayList<>();
    String pattern = "LSSLSSLSSL";
    for (char kind : pattern.toCharArray()) {
      long at = System.nanoTime();
      long ms = kind == 'L' ? longJob.toMillis() : 50;
      String id = dispatch("test.slow", "{\"ms\":" + ms + "}").jobId();
      publishedAt.put(id, at);
      if (kind == 'S') {
        shorts.add(id);
      }
    }
    await().atMost(Duration.ofSeconds(90)).until(() -> runs.size() == pattern.length());

    long epoch = publishedAt.values().iterator().next();
    publishedAt.forEach(
        (id, at) ->
            System.out.printf(
                "%s %s published %6d ms, ran on %s from %6d ms to %6d ms%n",
                shorts.contains(id) ? "short" : "long ",
                id,
                (at - epoch) / 1_000_000,
                runs.get(id).workerId(),
                (runs.get(id).began() - epoch) / 1_000_000,
                (runs.get(id).ended() - epoch) / 1_000_000));
    for (String id : shorts) {
      long roomAt = firstRoomFor(id, 2, publishedAt, runs);
      assertThat(Duration.ofNanos(runs.get(id).began() - roomAt))
          .as("short job %s waited after a slot was free for it", id)
          .isLessThan(Duration.ofSeconds(5));
    }
  }

  @Test
  void anAttemptThatRanAWhileHasItsLeaseMarkedBeforeItsOutcomeIsPublished() {
    // A worker killed between publishing an outcome and marking its lease would leave an
    // unmarked lease: released at once, the job runs again and the published outcome is refused
    // (a chaos run saw it). An attempt past the quick bound (2 s with a 30 s lease) is marked
    // before it publishes; the beat that would mark it otherwise comes up to a second later, and
    // the outcome is looked for every 10 ms.
    Duration ttl = Duration.ofSeconds(30);
    Duration ran = LeaseKeeper.quickAttempt(ttl).plusMillis(300);
    // the handler's own work lasts past the quick bound: the behaviour under test, not a wait
    // for a result (the outcome is awaited with Awaitility below)
    start(1, ttl, handler("test.phases", job -> Thread.sleep(ran)));
    WorkMessage work = dispatch("test.phases", "{}");

    await()
        .pollInterval(Duration.ofMillis(10))
        .atMost(WAIT)
        .until(() -> hasOutcome(drain(work.jobId())));
    assertThat(outcomeMark(work.jobId()))
        .as("the lease's outcome mark when the outcome was on the queue")
        .isNotNull();
  }

  @Test
  void aSlotTakesItsNextJobWhileItsLastOutcomeWaitsForTheConfirm() {
    // ADR 39: the outcome's publish and confirm go on without the slot. The worker publishes
    // through a proxy that drops the broker's replies, so no confirm comes (and the publisher
    // waits a minute for one); its single slot still runs the second job.
    TcpProxy proxy = TcpProxy.to(endpoints.rabbitHost(), endpoints.rabbitPort());
    var through = new CachingConnectionFactory("127.0.0.1", proxy.port());
    through.setUsername(endpoints.rabbitUsername());
    through.setPassword(endpoints.rabbitPassword());
    through.setVirtualHost(endpoints.rabbitVirtualHost());
    through.setPublisherConfirmType(CachingConnectionFactory.ConfirmType.CORRELATED);
    through.setPublisherReturns(true);
    closeLast.add(proxy);
    closeLast.add(through::destroy);
    through.createConnection(); // connected before the replies stop
    ConfirmingPublisher direct = publisher; // the test's own, which publishes the work
    publisher = new ConfirmingPublisher(through, Duration.ofMinutes(1)); // the worker's
    List<String> ran = new CopyOnWriteArrayList<>();
    start(1, Duration.ofSeconds(30), handler("test.phases", job -> ran.add(job.jobId())));
    publisher = direct;
    proxy.dropReplies();

    WorkMessage first = dispatch("test.phases", "{}");
    WorkMessage second = dispatch("test.phases", "{}");
    await().atMost(WAIT).until(() -> ran.size() == 2);
    assertThat(ran).containsExactly(first.jobId(), second.jobId());
    assertThat(outcomesPublished()).as("outcomes confirmed while the replies are dropped").isZero();
    assertThat(store.leaseRecovery().leasesOf("w-0"))
        .as("both leases held while their outcomes wait")
        .hasSize(2);

    proxy.pass(); // closes the publisher's connection: the outcomes are published again
    await().atMost(WAIT).until(() -> outcomesPublished() == 2);
  }

  private double outcomesPublished() {
    return meters.find(MetricNames.OUTCOMES_PUBLISHED).counters().stream()
        .mapToDouble(c -> c.count())
        .sum();
  }

  @Test
  void aQuickAttemptsLeaseIsMarkedByTheNextBeatWithinASecond() {
    // A no-op job makes no Redis call of its own between its claim and its outcome (ADR 37): its
    // lease is marked by the beat of the leases waiting for their outcome, which comes every
    // second at most (a third of the TTL, 10 s here, before).
    Duration ttl = Duration.ofSeconds(30);
    start(1, ttl, handler("test.phases", job -> {}));
    WorkMessage work = dispatch("test.phases", "{}");

    awaitEvents(work.jobId(), this::hasOutcome, WAIT);
    await()
        .atMost(Duration.ofSeconds(4))
        .untilAsserted(
            () ->
                assertThat(outcomeMark(work.jobId()))
                    .as("the lease marked as waiting for its outcome by a beat")
                    .isNotNull());
    assertThat(store.leaseRecovery().leasesOf("w-0"))
        .singleElement()
        .satisfies(lease -> assertThat(lease.outcomePublished()).isTrue());
  }

  @Test
  void aStoppingWorkerMarksTheLeasesOfItsQuickAttemptsFirst() {
    // Stopped right after a quick job published its outcome, before the beat: the last beat
    // marks the lease, so recovery waits for the outcome instead of running the job again.
    WorkerRuntime runtime = start(1, Duration.ofSeconds(30), handler("test.phases", job -> {}));
    WorkMessage work = dispatch("test.phases", "{}");
    await()
        .pollInterval(Duration.ofMillis(10))
        .atMost(WAIT)
        .until(() -> hasOutcome(drain(work.jobId())));

    runtime.stop(Duration.ofSeconds(5));

    assertThat(outcomeMark(work.jobId())).as("the lease's outcome mark once stopped").isNotNull();
    assertThat(store.queries().find(work.jobId()).orElseThrow().state())
        .as("not released: its outcome waits in the status queue")
        .isEqualTo(JobState.RUNNING);
  }

  /** The job's {@code outcomeAt} field, read from Redis: null while its lease is unmarked. */
  private Object outcomeMark(String jobId) {
    return new StringRedisTemplate(redis)
        .opsForHash()
        .get(store.keys().base(store.keys().partitionOf(jobId)) + "job:" + jobId, "outcomeAt");
  }

  /**
   * A worker started before its pool's queue exists (the scheduler declares it, ADR 41) is in the
   * registry at once but announces its types only once its queue routes them: announced earlier,
   * the scheduler would publish jobs the broker returns as unroutable, which end DEAD.
   */
  @Test
  void aWorkerAnnouncesItsTypesOnlyOnceItsPoolsQueueRoutesThem() {
    new RabbitAdmin(rabbit).deleteQueue(topology.workQueue("default"));
    AtomicInteger ran = new AtomicInteger();
    var worker =
        start(1, Duration.ofSeconds(30), handler("test.slow", job -> ran.incrementAndGet()));
    String id = worker.settings().workerId();
    var types = registry().jobTypes();

    await().atMost(WAIT).until(() -> registry().list().stream().anyMatch(w -> w.id().equals(id)));
    await()
        .during(Duration.ofMillis(700))
        .atMost(WAIT)
        .until(() -> types.find("test.slow").isEmpty());

    RabbitCleanup.declare(rabbit, topology.declarables());
    await().atMost(WAIT).until(() -> types.find("test.slow").isPresent());
    dispatch("test.slow", "{}");
    await().atMost(WAIT).until(() -> ran.get() == 1);
  }

  @Test
  void noopJobsThroughOneSlotArePrintedForTheRecordNotAsserted() {
    // What consuming costs per job (ADR 17 quotes it): the jobs wait in the queue first, then one
    // worker of capacity 1 takes them one by one.
    int jobs = 300;
    AtomicInteger done = new AtomicInteger();
    for (int i = 0; i < jobs; i++) {
      dispatch("test.slow", "{}");
    }
    long began = System.nanoTime();
    start(1, Duration.ofSeconds(30), handler("test.slow", job -> done.incrementAndGet()));
    await().atMost(Duration.ofSeconds(120)).until(() -> done.get() == jobs);
    long took = System.nanoTime() - began;
    System.out.printf(
        "%d noop jobs through one slot: %d ms, %.1f jobs/s%n",
        jobs, took / 1_000_000, jobs / (took / 1e9));
  }

  /** When a handler ran, on which worker, by {@link System#nanoTime()}. */
  record Run(String workerId, long began, long ended) {}

  /**
   * The first moment from the job's publication on at which fewer of the jobs published before it
   * were unfinished than there are slots: from then on, in a queue served in order, only a worker
   * holding its delivery behind a running job keeps it waiting.
   */
  private static long firstRoomFor(
      String id, int slots, Map<String, Long> publishedAt, Map<String, Run> runs) {
    long published = publishedAt.get(id);
    List<Run> earlier =
        publishedAt.entrySet().stream()
            .filter(e -> e.getValue() < published)
            .map(e -> runs.get(e.getKey()))
            .toList();
    List<Long> moments = new ArrayList<>(List.of(published));
    earlier.forEach(r -> moments.add(r.ended()));
    return moments.stream()
        .filter(t -> t >= published)
        .sorted()
        .filter(t -> earlier.stream().filter(r -> r.ended() > t).count() < slots)
        .findFirst()
        .orElseThrow();
  }
}
