package dev.shepherd.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.shepherd.messaging.ConfirmingPublisher;
import dev.shepherd.messaging.OutgoingMessage;
import dev.shepherd.messaging.Topology;
import dev.shepherd.model.DeadJob;
import dev.shepherd.model.Json;
import dev.shepherd.model.StatusEvent;
import dev.shepherd.model.WorkMessage;
import dev.shepherd.store.DueEntry;
import dev.shepherd.store.JobStore;
import dev.shepherd.store.NewJob;
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
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.amqp.core.Message;
import org.springframework.amqp.rabbit.connection.CachingConnectionFactory;
import org.springframework.amqp.rabbit.core.RabbitTemplate;
import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;
import org.springframework.data.redis.core.StringRedisTemplate;
import tools.jackson.databind.JsonNode;

/** The worker runtime against a real broker and Redis: claim, run, report, lose a lease. */
@WithRealServices
class WorkerRuntimeIT {

  private final SimpleMeterRegistry meters = new SimpleMeterRegistry();
  private final List<WorkerRuntime> runtimes = new ArrayList<>();
  private String prefix;
  private Topology topology;
  private CachingConnectionFactory rabbit;
  private LettuceConnectionFactory redis;
  private JobStore store;
  private ConfirmingPublisher publisher;

  @BeforeEach
  void setUp(ServiceEndpoints endpoints, TestNames names) {
    prefix = names.prefix();
    topology =
        new Topology(
            prefix, Map.of("default", List.of("test.phases", "test.block", "test.slow")), 5);
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

  private JobStore store(Clock clock) {
    return new JobStore(
        new StringRedisTemplate(redis), new StoreSettings(prefix, 4, Duration.ofDays(1)), clock);
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

  private WorkerRegistry registry() {
    return new WorkerRegistry(
        new StringRedisTemplate(redis),
        new StoreSettings(prefix, 4, Duration.ofDays(1)),
        Clock.systemUTC(),
        Duration.ofSeconds(30));
  }

  /** Stores a job and publishes its work message the way the dispatcher does. */
  private WorkMessage dispatch(String type) {
    String id = store.submit(new NewJob(type, "default", "{}", null, null, 3)).jobId();
    int partition = store.partitionOf(id);
    DueEntry entry =
        store.reserveDue(partition, 100, Duration.ofSeconds(30)).stream()
            .filter(e -> e.jobId().equals(id))
            .findFirst()
            .orElseThrow();
    var work =
        new WorkMessage(
            id, type, entry.attempt(), Json.mapper().createObjectNode(), entry.submittedAt());
    publishWork(Json.mapper().writeValueAsBytes(work), type);
    store.markDispatched(partition, List.of(entry));
    return work;
  }

  private static final String TRACE = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

  private void publishWork(byte[] body, String routingKey) {
    publisher.publish(
        new OutgoingMessage(
            topology.workExchange(), routingKey, "m", body, Map.of("traceparent", TRACE)));
  }

  private List<StatusEvent> drainStatus(int atLeast) {
    var template = new RabbitTemplate(rabbit);
    List<StatusEvent> events = new ArrayList<>();
    await()
        .atMost(Duration.ofSeconds(15))
        .until(
            () -> {
              Message m;
              while ((m = template.receive(topology.statusQueue())) != null) {
                assertThat((String) m.getMessageProperties().getHeader("traceparent"))
                    .startsWith("00-4bf92f3577b34da6a3ce929d0e0e4736-");
                events.add(Json.mapper().readValue(m.getBody(), StatusEvent.class));
              }
              return events.size() >= atLeast;
            });
    return events;
  }

  private static JobHandler<JsonNode> handler(String type, JobHandlerBody body) {
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
  interface JobHandlerBody {
    void run(JobContext<JsonNode> job) throws Exception;
  }

  @Test
  void aClaimedJobReportsEachPhaseThenSucceedsWithItsTokenAndRisingSequence() {
    AtomicInteger runs = new AtomicInteger();
    start(
        2,
        Duration.ofSeconds(30),
        handler(
            "test.phases",
            job -> {
              runs.incrementAndGet();
              job.phase("one", () -> {});
              job.progress(50, "half");
              job.phase("two", () -> {});
            }));
    WorkMessage work = dispatch("test.phases");
    List<StatusEvent> events = drainStatus(6);
    assertThat(events)
        .extracting(StatusEvent::eventName)
        .containsExactly(
            "PHASE_STARTED",
            "PHASE_ENDED",
            "PROGRESS",
            "PHASE_STARTED",
            "PHASE_ENDED",
            "SUCCEEDED");
    assertThat(events).extracting(StatusEvent::sequence).containsExactly(1L, 2L, 3L, 4L, 5L, 6L);
    long token = events.get(0).fencingToken();
    assertThat(events)
        .allSatisfy(
            e -> {
              assertThat(e.fencingToken()).isEqualTo(token);
              assertThat(e.jobId()).isEqualTo(work.jobId());
              assertThat(e.attempt()).isEqualTo(1);
            });
    // a second delivery of the same attempt is acked and not run
    publishWork(Json.mapper().writeValueAsBytes(work), "test.phases");
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> meters.counter("shepherd.worker.duplicate.deliveries").count() == 1.0);
    assertThat(runs).hasValue(1);
    assertThat(registry().find("w-0"))
        .hasValueSatisfying(w -> assertThat(w.state()).isEqualTo("active"));
    assertThat(meters.find("shepherd.phase.duration").tag("phase", "two").timer().count())
        .isEqualTo(1);
  }

  @Test
  void anUnreadableWorkMessageBecomesADeadRecordAndTheWorkerGoesOn() {
    start(1, Duration.ofSeconds(30), handler("test.phases", job -> {}));
    publishWork("not json at all".getBytes(StandardCharsets.UTF_8), "test.phases");
    dispatch("test.phases");
    assertThat(drainStatus(1)).extracting(StatusEvent::eventName).containsExactly("SUCCEEDED");
    assertThat(store.listDead(10))
        .extracting(DeadJob::rawMessage)
        .containsExactly("not json at all");
    assertThat(RabbitCleanup.messageCount(rabbit, topology.workQueue("default"))).isZero();
  }

  @Test
  void aWorkerThatLostItsLeaseStopsItsHandlerAndReportsNothingMore() throws Exception {
    CountDownLatch started = new CountDownLatch(1);
    CountDownLatch interrupted = new CountDownLatch(1);
    start(
        1,
        Duration.ofSeconds(1),
        handler(
            "test.block",
            job -> {
              started.countDown();
              try {
                new CountDownLatch(1).await(); // blocks until the runtime interrupts it
              } catch (InterruptedException e) {
                interrupted.countDown();
                throw e;
              }
            }));
    WorkMessage work = dispatch("test.block");
    assertThat(started.await(10, TimeUnit.SECONDS)).isTrue();
    // Another recovery instance, whose clock is past the TTL, takes the lease back.
    var later = new SettableClock(Clock.systemUTC().instant().plusSeconds(5));
    assertThat(store(later).reapExpiredLeases(store.partitionOf(work.jobId()), 10, Duration.ZERO))
        .hasSize(1);
    assertThat(interrupted.await(10, TimeUnit.SECONDS)).isTrue();
    await()
        .atMost(Duration.ofSeconds(5))
        .until(() -> meters.counter("shepherd.worker.leases.lost").count() == 1.0);
    await().atMost(Duration.ofSeconds(5)).until(() -> runtimes.get(0).runningCount() == 0);
    var template = new RabbitTemplate(rabbit);
    Message m;
    List<String> events = new ArrayList<>();
    while ((m = template.receive(topology.statusQueue())) != null) {
      events.add(Json.mapper().readValue(m.getBody(), StatusEvent.class).eventName());
    }
    assertThat(events).doesNotContain("SUCCEEDED", "FAILED");
  }

  @Test
  void aWorkerRunsNoMoreJobsAtOnceThanItsCapacity() {
    AtomicInteger now = new AtomicInteger();
    List<Integer> peaks = new CopyOnWriteArrayList<>();
    start(
        2,
        Duration.ofSeconds(30),
        handler(
            "test.slow",
            job -> {
              peaks.add(now.incrementAndGet());
              try {
                new CountDownLatch(1).await(150, TimeUnit.MILLISECONDS); // work that takes a while
              } finally {
                now.decrementAndGet();
              }
            }));
    for (int i = 0; i < 6; i++) {
      dispatch("test.slow");
    }
    assertThat(drainStatus(6)).extracting(StatusEvent::eventName).containsOnly("SUCCEEDED");
    assertThat(peaks).hasSize(6).allSatisfy(p -> assertThat(p).isLessThanOrEqualTo(2));
    assertThat(peaks).contains(2);
  }
}
