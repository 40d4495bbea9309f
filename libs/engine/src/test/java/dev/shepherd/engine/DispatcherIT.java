package dev.shepherd.engine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.shepherd.engine.dispatch.Dispatcher;
import dev.shepherd.messaging.ConfirmingPublisher;
import dev.shepherd.messaging.Topology;
import dev.shepherd.model.JobEvent;
import dev.shepherd.model.JobState;
import dev.shepherd.model.Json;
import dev.shepherd.model.TraceParent;
import dev.shepherd.model.WorkMessage;
import dev.shepherd.store.DueEntry;
import dev.shepherd.store.NewJob;
import dev.shepherd.store.Store;
import dev.shepherd.store.StoreSettings;
import dev.shepherd.testsupport.ManagedProcess;
import dev.shepherd.testsupport.ServiceEndpoints;
import dev.shepherd.testsupport.TestNames;
import dev.shepherd.testsupport.WithRealServices;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.amqp.core.Message;
import org.springframework.amqp.rabbit.connection.CachingConnectionFactory;
import org.springframework.amqp.rabbit.core.RabbitTemplate;
import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;
import org.springframework.data.redis.core.StringRedisTemplate;

@WithRealServices
class DispatcherIT {

  private EngineFixture fixture;
  private ServiceEndpoints endpoints;

  @BeforeEach
  void setUp(ServiceEndpoints endpoints, TestNames names) {
    this.endpoints = endpoints;
    fixture = new EngineFixture(endpoints, names);
  }

  @AfterEach
  void tearDown() {
    fixture.close();
  }

  private Dispatcher dispatcher() {
    return new Dispatcher(
        fixture.store.outbox(),
        fixture.topology,
        fixture.publisher,
        7,
        Duration.ofSeconds(30),
        new io.micrometer.core.instrument.simple.SimpleMeterRegistry());
  }

  @Test
  void dueJobsArePublishedOnceAndLeaveTheOutboxAfterTheirConfirm() {
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < 40; i++) {
      ids.add(
          fixture
              .store
              .submissions()
              .submit(new NewJob("demo.noop", "default", "{\"i\":" + i + "}", null, null, 3))
              .jobId());
    }
    Dispatcher dispatcher = dispatcher();
    int published = 0;
    for (int pass = 0; pass < 10 && published < 40; pass++) {
      published += dispatcher.dispatchOnce();
    }
    assertThat(published).isEqualTo(40);
    assertThat(dispatcher.dispatchOnce()).isZero();
    assertThat(fixture.store.queries().outboxSize()).isZero();
    assertThat(ids)
        .allSatisfy(
            id ->
                assertThat(fixture.store.queries().find(id).orElseThrow().state())
                    .isEqualTo(JobState.QUEUED));

    var template = new RabbitTemplate(fixture.rabbitConnections);
    Set<String> received = new HashSet<>();
    Message m;
    while ((m = template.receive(fixture.topology.workQueue("default"), 2_000)) != null) {
      WorkMessage work = Json.mapper().readValue(m.getBody(), WorkMessage.class);
      assertThat(work.attempt()).isEqualTo(1);
      assertThat(received.add(work.jobId())).as("published twice: " + work.jobId()).isTrue();
    }
    assertThat(received).containsExactlyInAnyOrderElementsOf(ids);
  }

  @Test
  void aJobReservedAtSubmitIsPublishedFromTheHandOverAndMarkedWithItsWindow() {
    Dispatcher dispatcher =
        new Dispatcher(
            fixture.store.outbox(),
            fixture.topology,
            fixture.publisher,
            7,
            Duration.ofSeconds(30),
            Duration.ofHours(1), // no sweep after the first pass: only the hand-over publishes
            Dispatcher.RETRY_UNCONFIRMED,
            Duration.ofHours(1), // marks wait for flushMarks
            new SimpleMeterRegistry());
    dispatcher.dispatchNext(); // the first pass sweeps the empty outbox
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      var accepted =
          (dev.shepherd.store.SubmitOutcome.Accepted)
              fixture
                  .store
                  .submissions()
                  .submit(
                      new NewJob("demo.noop", "default", "{\"i\":" + i + "}", null, null, 3),
                      dispatcher.visibility());
      ids.add(accepted.jobId());
      dispatcher.handOver(accepted.reserved());
    }
    // reserved by the submit: no dispatcher can take them from the outbox meanwhile
    for (int p = 0; p < fixture.store.outbox().partitions(); p++) {
      assertThat(fixture.store.outbox().reserveDue(p, 100, Duration.ofSeconds(30))).isEmpty();
    }

    assertThat(dispatcher.dispatchNext()).isEqualTo(5);
    // confirmed, not marked yet: still in the outbox, still SUBMITTED
    assertThat(fixture.store.queries().outboxSize()).isEqualTo(5);
    assertThat(fixture.store.queries().find(ids.getFirst()).orElseThrow().state())
        .isEqualTo(JobState.SUBMITTED);
    dispatcher.flushMarks();
    assertThat(fixture.store.queries().outboxSize()).isZero();
    assertThat(ids)
        .allSatisfy(
            id ->
                assertThat(fixture.store.queries().find(id).orElseThrow().state())
                    .isEqualTo(JobState.QUEUED));
    var template = new RabbitTemplate(fixture.rabbitConnections);
    Set<String> received = new HashSet<>();
    Message m;
    while ((m = template.receive(fixture.topology.workQueue("default"), 2_000)) != null) {
      received.add(Json.mapper().readValue(m.getBody(), WorkMessage.class).jobId());
    }
    assertThat(received).containsExactlyInAnyOrderElementsOf(ids);
  }

  @Test
  void aReservedJobWhoseSchedulerDiedBeforePublishingIsPublishedAfterTheReservation() {
    var accepted =
        (dev.shepherd.store.SubmitOutcome.Accepted)
            fixture
                .store
                .submissions()
                .submit(
                    new NewJob("demo.noop", "default", "{}", null, null, 3),
                    Duration.ofSeconds(30));
    // the scheduler that reserved it is gone: nobody hands the entry over
    Dispatcher another = dispatcher();
    assertThat(another.dispatchOnce()).isZero();
    fixture.clock.advance(Duration.ofSeconds(31));
    assertThat(another.dispatchOnce()).isEqualTo(1);
    assertThat(fixture.store.queries().find(accepted.jobId()).orElseThrow().state())
        .isEqualTo(JobState.QUEUED);
  }

  @Test
  void twoSchedulersDispatchingAtOnceNeverPublishAJobTwice() throws Exception {
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < 200; i++) {
      ids.add(
          fixture
              .store
              .submissions()
              .submit(new NewJob("demo.noop", "default", "{\"i\":" + i + "}", null, null, 3))
              .jobId());
    }
    // Two schedulers as in production: each with its own Redis connections, store and broker
    // connection, so neither is serialised behind the other's commands or confirms.
    List<SchedulerConnections> schedulers =
        List.of(
            new SchedulerConnections(endpoints, fixture),
            new SchedulerConnections(endpoints, fixture));
    // Every pass starts together, so both reserve from the same outbox at the same moment.
    var together = new java.util.concurrent.Phaser(schedulers.size());
    var pool = java.util.concurrent.Executors.newFixedThreadPool(schedulers.size());
    try {
      List<java.util.concurrent.Future<Integer>> counts = new ArrayList<>();
      for (SchedulerConnections s : schedulers) {
        counts.add(
            pool.submit(
                () -> {
                  int published = 0;
                  try {
                    for (int pass = 0; pass < 100; pass++) {
                      together.arriveAndAwaitAdvance();
                      if (s.store.queries().outboxSize() == 0) {
                        break;
                      }
                      published += s.dispatcher.dispatchOnce();
                    }
                  } finally {
                    together.arriveAndDeregister();
                  }
                  return published;
                }));
      }
      int first = counts.get(0).get();
      int second = counts.get(1).get();
      assertThat(first).as("published by the first scheduler").isPositive();
      assertThat(second).as("published by the second scheduler").isPositive();
      assertThat(first + second).isEqualTo(200);
      assertThat(fixture.store.queries().outboxSize()).isZero();
    } finally {
      pool.shutdownNow();
      schedulers.forEach(SchedulerConnections::close);
    }

    var template = new RabbitTemplate(fixture.rabbitConnections);
    List<String> received = new ArrayList<>();
    Message m;
    while ((m = template.receive(fixture.topology.workQueue("default"), 2_000)) != null) {
      received.add(Json.mapper().readValue(m.getBody(), WorkMessage.class).jobId());
    }
    assertThat(received).doesNotHaveDuplicates().containsExactlyInAnyOrderElementsOf(ids);
  }

  /** One scheduler's own Redis connections, store, broker connection and dispatcher. */
  private static final class SchedulerConnections implements AutoCloseable {
    final LettuceConnectionFactory redis;
    final CachingConnectionFactory rabbit;
    final Store store;
    final Dispatcher dispatcher;

    SchedulerConnections(ServiceEndpoints endpoints, EngineFixture fixture) {
      redis = endpoints.newRedisConnectionFactory();
      rabbit = endpoints.newRabbitConnectionFactory();
      store =
          Store.of(
              new StringRedisTemplate(redis),
              new StoreSettings(fixture.prefix, 4, Duration.ofDays(7)),
              fixture.clock,
              new SimpleMeterRegistry());
      dispatcher =
          new Dispatcher(
              store.outbox(),
              fixture.topology,
              new ConfirmingPublisher(rabbit, Duration.ofSeconds(5)),
              7,
              Duration.ofSeconds(30),
              new io.micrometer.core.instrument.simple.SimpleMeterRegistry());
    }

    @Override
    public void close() {
      rabbit.destroy();
      redis.destroy();
    }
  }

  @Test
  void theWorkMessageCarriesTheJobsTraceAsAChildContext() {
    String trace = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    fixture
        .store
        .submissions()
        .submit(new NewJob("demo.noop", "default", "{}", null, null, 3, trace));
    assertThat(dispatcher().dispatchOnce()).isEqualTo(1);
    Message m =
        new RabbitTemplate(fixture.rabbitConnections)
            .receive(fixture.topology.workQueue("default"), 5_000);
    String header = (String) m.getMessageProperties().getHeader("traceparent");
    assertThat(header)
        .startsWith("00-4bf92f3577b34da6a3ce929d0e0e4736-")
        .doesNotContain("00f067aa0ba902b7");
  }

  @Test
  void aJobSubmittedWithoutATraceStoresNoneAndItsWorkMessageCarriesItsIdsTrace() {
    var job =
        fixture
            .store
            .submissions()
            .submit(new NewJob("demo.noop", "default", "{}", null, null, 3, null));
    assertThat(
            new StringRedisTemplate(fixture.redisConnections)
                .opsForHash()
                .hasKey(fixture.store.keys().job(job.jobId()), "traceparent"))
        .as("nothing stored: the trace is the id's (ADR 54)")
        .isFalse();
    assertThat(dispatcher().dispatchOnce()).isEqualTo(1);
    Message m =
        new RabbitTemplate(fixture.rabbitConnections)
            .receive(fixture.topology.workQueue("default"), 5_000);
    String header = (String) m.getMessageProperties().getHeader("traceparent");
    assertThat(header).startsWith("00-" + job.jobId().substring(3) + "-");
    assertThat(TraceParent.parse(header).orElseThrow().parentId())
        .as("a child: a span of its own")
        .isNotEqualTo(job.jobId().substring(19));
    assertThat(fixture.store.queries().find(job.jobId()).orElseThrow().traceId())
        .isEqualTo(job.jobId().substring(3));
  }

  @Test
  void aDelayedJobIsPublishedOnlyOnceItsTimeCame() {
    var job =
        fixture
            .store
            .submissions()
            .submit(
                new NewJob(
                    "demo.noop",
                    "default",
                    "{}",
                    null,
                    fixture.clock.instant().plusSeconds(30),
                    3));
    assertThat(dispatcher().dispatchOnce()).isZero();
    assertThat(fixture.store.queries().find(job.jobId()).orElseThrow().state())
        .isEqualTo(JobState.SCHEDULED);
    fixture.clock.advance(Duration.ofSeconds(31));
    assertThat(dispatcher().dispatchOnce()).isEqualTo(1);
    assertThat(fixture.messagesIn(fixture.topology.workQueue("default"))).isEqualTo(1);
  }

  @Test
  void anEntryWhosePublishIsNotConfirmedStaysInTheOutboxAndIsTriedAgainWithinASecond() {
    // The broker cannot be reached: nothing is confirmed.
    var unreachable = new CachingConnectionFactory("127.0.0.1", ManagedProcess.freePort());
    unreachable.setPublisherConfirmType(CachingConnectionFactory.ConfirmType.CORRELATED);
    unreachable.setPublisherReturns(true);
    var dispatcher =
        new Dispatcher(
            fixture.store.outbox(),
            fixture.topology,
            new ConfirmingPublisher(unreachable, Duration.ofSeconds(2)),
            7,
            Duration.ofSeconds(30),
            new SimpleMeterRegistry());
    String id =
        fixture
            .store
            .submissions()
            .submit(new NewJob("demo.noop", "default", "{}", null, null, 3))
            .jobId();
    try {
      assertThat(dispatcher.dispatchOnce()).isZero();
    } finally {
      unreachable.destroy();
    }
    assertThat(fixture.store.queries().outboxSize()).isEqualTo(1);
    assertThat(fixture.store.queries().find(id).orElseThrow().state())
        .isEqualTo(JobState.SUBMITTED);

    // Not reserved for the whole visibility (30 s) as a crashed dispatcher's entry would be.
    int partition = fixture.store.keys().partitionOf(id);
    assertThat(fixture.store.outbox().reserveDue(partition, 10, Duration.ofSeconds(30))).isEmpty();
    fixture.clock.advance(Dispatcher.RETRY_UNCONFIRMED);
    assertThat(fixture.store.outbox().reserveDue(partition, 10, Duration.ofSeconds(30)))
        .extracting(DueEntry::jobId)
        .containsExactly(id);
  }

  @Test
  void aJobWhoseTypeNoPoolTakesAnyMoreGoesDeadWithTheReasonInsteadOfBeingRetriedForever() {
    // Accepted while a pool took the type; the scheduler's topology no longer names one.
    String id =
        fixture
            .store
            .submissions()
            .submit(new NewJob("retired.type", "default", "{}", null, null, 3))
            .jobId();
    String fine =
        fixture
            .store
            .submissions()
            .submit(new NewJob("demo.noop", "default", "{}", null, null, 3))
            .jobId();

    assertThat(dispatcher().dispatchOnce()).isEqualTo(1);

    assertDeadBecause(id, "no handler for job type retired.type");
    assertThat(fixture.store.queries().find(fine).orElseThrow().state()).isEqualTo(JobState.QUEUED);
    assertThat(fixture.store.queries().outboxSize()).isZero();
    assertThat(fixture.messagesIn(fixture.topology.workQueue("default"))).isEqualTo(1);
  }

  @Test
  void aWorkMessageTheBrokerReturnsAsUnroutableEndsItsJobDeadWithTheReason() {
    // This scheduler believes a pool takes the type, but no queue on the broker is bound to it
    // (a pool removed in a rolling deploy): the broker returns the message.
    var stale =
        new Topology(
            fixture.prefix,
            Map.of("default", List.of("demo.noop", "site.generate", "demo.poison", "gone.type")),
            3);
    var dispatcher =
        new Dispatcher(
            fixture.store.outbox(),
            stale,
            fixture.publisher,
            7,
            Duration.ofSeconds(30),
            new SimpleMeterRegistry());
    String id =
        fixture
            .store
            .submissions()
            .submit(new NewJob("gone.type", "default", "{}", null, null, 3))
            .jobId();

    assertThat(dispatcher.dispatchOnce()).isZero();

    assertDeadBecause(id, "no handler for job type gone.type");
    assertThat(fixture.store.queries().outboxSize()).isZero();
  }

  private void assertDeadBecause(String id, String reason) {
    var job = fixture.store.queries().find(id).orElseThrow();
    assertThat(job.state()).isEqualTo(JobState.DEAD);
    assertThat(job.lastError()).startsWith(reason);
    assertThat(job.history().getLast().event()).isEqualTo(JobEvent.UNROUTABLE);
    assertThat(fixture.store.deadJobs().findDead(id))
        .hasValueSatisfying(dead -> assertThat(dead.reason()).startsWith(reason));
  }
}
