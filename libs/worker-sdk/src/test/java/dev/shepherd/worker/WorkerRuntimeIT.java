package dev.shepherd.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.shepherd.messaging.ConfirmingPublisher;
import dev.shepherd.messaging.OutgoingMessage;
import dev.shepherd.messaging.Topology;
import dev.shepherd.model.DeadJob;
import dev.shepherd.model.JobState;
import dev.shepherd.model.Json;
import dev.shepherd.model.MetricNames;
import dev.shepherd.model.PhaseView;
import dev.shepherd.model.StatusEvent;
import dev.shepherd.model.WorkMessage;
import dev.shepherd.store.DueEntry;
import dev.shepherd.store.JobStore;
import dev.shepherd.store.NewJob;
import dev.shepherd.store.ReportResult;
import dev.shepherd.store.StoreSettings;
import dev.shepherd.store.WorkerRegistry;
import dev.shepherd.testsupport.RabbitCleanup;
import dev.shepherd.testsupport.RedisCleanup;
import dev.shepherd.testsupport.ServiceEndpoints;
import dev.shepherd.testsupport.SettableClock;
import dev.shepherd.testsupport.TestNames;
import dev.shepherd.testsupport.WithRealServices;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
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
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.amqp.core.Message;
import org.springframework.amqp.rabbit.connection.CachingConnectionFactory;
import org.springframework.amqp.rabbit.core.RabbitTemplate;
import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;
import org.springframework.data.redis.core.StringRedisTemplate;
import tools.jackson.databind.JsonNode;

/**
 * The worker runtime against a real broker and Redis: claim, run, report, refuse duplicates, record
 * unreadable input, lose a lease, keep to its capacity, drain.
 */
@WithRealServices
class WorkerRuntimeIT {

  private static final Duration WAIT = Duration.ofSeconds(15);
  private static final String TRACE = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
  private static final List<String> TYPES =
      List.of(
          "test.phases", "test.block", "test.slow", "test.typed", "test.unhandled", "test.fail");

  private final SimpleMeterRegistry meters = new SimpleMeterRegistry();
  private final List<WorkerRuntime> runtimes = new ArrayList<>();
  private final List<Received> received = new CopyOnWriteArrayList<>();
  private String prefix;
  private Topology topology;
  private CachingConnectionFactory rabbit;
  private LettuceConnectionFactory redis;
  private JobStore store;
  private ConfirmingPublisher publisher;

  /** A status event as it arrived, with the routing key and message id it came with. */
  record Received(StatusEvent event, String routingKey, String messageId) {}

  /** A test payload with one required-looking field, to see binding refuse what does not fit. */
  record Greeting(String name) {}

  @BeforeEach
  void setUp(ServiceEndpoints endpoints, TestNames names) {
    prefix = names.prefix();
    topology = new Topology(prefix, Map.of("default", TYPES), 5);
    rabbit = endpoints.newRabbitConnectionFactory();
    redis = endpoints.newRedisConnectionFactory();
    store = store(Clock.systemUTC());
    publisher = new ConfirmingPublisher(rabbit, Duration.ofSeconds(5));
    RabbitCleanup.declare(rabbit, topology.declarables());
  }

  @AfterEach
  void tearDown() {
    runtimes.forEach(r -> r.stop(Duration.ofSeconds(2)));
    RabbitCleanup.delete(rabbit, topology.queueNames(), topology.exchangeNames());
    RedisCleanup.deleteByPrefix(redis, prefix);
    rabbit.destroy();
    redis.destroy();
  }

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
        .extracting(r -> store.report(r.event(), Duration.ZERO).outcome())
        .containsOnly(ReportResult.Outcome.APPLIED);
    var job = store.find(work.jobId()).orElseThrow();
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
    int partition = store.partitionOf(work.jobId());
    await()
        .during(ttl.multipliedBy(4))
        .atMost(ttl.multipliedBy(8))
        .until(() -> store.reapExpiredLeases(partition, 10, Duration.ZERO).isEmpty());
    assertThat(store.find(work.jobId()).orElseThrow().state()).isEqualTo(JobState.RUNNING);
    assertThat(store.leasesOf("w-0"))
        .singleElement()
        .satisfies(lease -> assertThat(lease.outcomePublished()).as("marked as waiting").isTrue());

    // The tracker catches up: the outcome is the claim's own, and the worker stops renewing
    // without taking the refused renewal for a lost lease.
    assertThat(events)
        .extracting(r -> store.report(r.event(), Duration.ZERO).outcome())
        .containsOnly(ReportResult.Outcome.APPLIED);
    assertThat(store.find(work.jobId()).orElseThrow().state()).isEqualTo(JobState.SUCCEEDED);
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
  void anUnreadableWorkMessageBecomesADeadRecordAndTheNextMessageIsStillRun() {
    start(1, Duration.ofSeconds(30), handler("test.phases", job -> {}));

    publishWork("not json at all".getBytes(StandardCharsets.UTF_8), "test.phases");
    WorkMessage good = dispatch("test.phases", "{}");

    assertThat(awaitEvents(good.jobId(), this::hasOutcome))
        .extracting(r -> r.event().eventName())
        .containsExactly("SUCCEEDED");
    List<DeadJob> dead = store.listDead(10);
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
        Duration.ofSeconds(1),
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
              cancelledSeen.set(job.isCancelled());
              job.progress(100, "done anyway"); // must not be published
              stopped.countDown();
              // returning normally would mean SUCCEEDED, had the lease not been lost
            }),
        handler("test.phases", job -> {}));
    WorkMessage work = dispatch("test.block", "{}");
    assertThat(started.await(WAIT.toSeconds(), TimeUnit.SECONDS)).isTrue();

    // Another recovery instance, whose clock is past the TTL, takes the lease back.
    var later = new SettableClock(Clock.systemUTC().instant().plusSeconds(5));
    assertThat(store(later).reapExpiredLeases(store.partitionOf(work.jobId()), 10, Duration.ZERO))
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
    assertThat(store.countInState(JobState.RUNNING)).isEqualTo(2);
    gate.countDown();
    for (String id : ids) {
      assertThat(awaitEvents(id, this::hasOutcome))
          .extracting(r -> r.event().eventName())
          .containsExactly("SUCCEEDED");
    }
    assertThat(concurrency).hasSize(6).allSatisfy(n -> assertThat(n).isLessThanOrEqualTo(2));
  }

  @Test
  void aJobTypeWithoutHandlerAndAPayloadThatDoesNotBindFailPermanently() {
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

    WorkMessage unhandled = dispatch("test.unhandled", "{}");
    WorkMessage unbound = dispatch("test.typed", "{\"name\":\"x\",\"colour\":\"red\"}");
    WorkMessage fine = dispatch("test.typed", "{\"name\":\"x\"}");

    assertThat(awaitEvents(unhandled.jobId(), this::hasOutcome).getLast().event())
        .isInstanceOfSatisfying(
            StatusEvent.Failed.class,
            f -> {
              assertThat(f.retryable()).isFalse();
              assertThat(f.error()).contains("test.unhandled").contains("w-0");
            });
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
    assertThat(store.find(work.jobId()).orElseThrow().state()).isEqualTo(JobState.RETRY_WAIT);
    assertThat(eventsOf(work.jobId())).isEmpty();
    assertThat(registry().find("w-0")).isEmpty();
  }

  // ---- fixtures ------------------------------------------------------------------------------

  private JobStore store(Clock clock) {
    return new JobStore(
        new StringRedisTemplate(redis), new StoreSettings(prefix, 4, Duration.ofDays(1)), clock);
  }

  private WorkerRegistry registry() {
    return new WorkerRegistry(
        new StringRedisTemplate(redis),
        new StoreSettings(prefix, 4, Duration.ofDays(1)),
        Clock.systemUTC(),
        Duration.ofSeconds(30));
  }

  private WorkerRuntime start(int capacity, Duration ttl, JobHandler<?>... handlers) {
    var runtime =
        new WorkerRuntime(
            new WorkerSettings("w-" + runtimes.size(), "default", capacity, ttl),
            store,
            topology,
            publisher,
            rabbit,
            List.of(handlers),
            registry(),
            Clock.systemUTC(),
            meters);
    runtimes.add(runtime);
    runtime.start();
    return runtime;
  }

  /** Stores a job and publishes its work message the way the scheduler's dispatcher does. */
  private WorkMessage dispatch(String type, String payloadJson) {
    String id = store.submit(new NewJob(type, "default", payloadJson, null, null, 3)).jobId();
    int partition = store.partitionOf(id);
    DueEntry entry =
        store.reserveDue(partition, 100, Duration.ofSeconds(30)).stream()
            .filter(e -> e.jobId().equals(id))
            .findFirst()
            .orElseThrow();
    var work =
        new WorkMessage(
            id,
            type,
            entry.attempt(),
            Json.mapper().readTree(entry.payloadJson()),
            entry.submittedAt());
    publishWork(Json.mapper().writeValueAsBytes(work), type);
    store.markDispatched(partition, List.of(entry));
    return work;
  }

  private void publishWork(byte[] body, String routingKey) {
    publisher.publish(
        new OutgoingMessage(
            topology.workExchange(), routingKey, "m", body, Map.of("traceparent", TRACE)));
  }

  /** Waits until the events of one job satisfy {@code done}; returns them in arrival order. */
  private List<Received> awaitEvents(String jobId, Predicate<List<Received>> done) {
    await().atMost(WAIT).until(() -> done.test(drain(jobId)));
    return eventsOf(jobId);
  }

  private List<Received> drain(String jobId) {
    var template = new RabbitTemplate(rabbit);
    Message m;
    while ((m = template.receive(topology.statusQueue())) != null) {
      var props = m.getMessageProperties();
      assertThat((String) props.getHeader("traceparent"))
          .startsWith("00-4bf92f3577b34da6a3ce929d0e0e4736-");
      received.add(
          new Received(
              Json.mapper().readValue(m.getBody(), StatusEvent.class),
              props.getReceivedRoutingKey(),
              props.getMessageId()));
    }
    return eventsOf(jobId);
  }

  private List<Received> eventsOf(String jobId) {
    return received.stream().filter(r -> r.event().jobId().equals(jobId)).toList();
  }

  private boolean hasOutcome(List<Received> events) {
    return events.stream()
        .anyMatch(
            r ->
                r.event() instanceof StatusEvent.Succeeded
                    || r.event() instanceof StatusEvent.Failed);
  }

  private static StatusEvent failed(List<Received> events, String error, boolean retryable) {
    StatusEvent last = events.getLast().event();
    return new StatusEvent.Failed(
        last.jobId(),
        last.type(),
        last.attempt(),
        last.fencingToken(),
        events.size(),
        last.workerId(),
        last.at(),
        error,
        retryable);
  }

  private static JobHandler<JsonNode> handler(String type, HandlerBody body) {
    return new JobHandler<>() {
      public String type() {
        return type;
      }

      public Class<JsonNode> payloadType() {
        return JsonNode.class;
      }

      public void handle(JobContext<JsonNode> job) throws Exception {
        body.run(job);
      }
    };
  }

  @FunctionalInterface
  interface HandlerBody {
    void run(JobContext<JsonNode> job) throws Exception;
  }
}
