package dev.shepherd.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.shepherd.contracts.Contracts;
import dev.shepherd.engine.intake.JobTypeCatalog;
import dev.shepherd.engine.intake.SubmissionIntake;
import dev.shepherd.engine.intake.SubmitConsumer;
import dev.shepherd.engine.status.StatusApplier;
import dev.shepherd.messaging.InfrastructurePause;
import dev.shepherd.messaging.Listeners;
import dev.shepherd.messaging.OutgoingMessage;
import dev.shepherd.model.JobState;
import dev.shepherd.model.Json;
import dev.shepherd.model.MetricNames;
import dev.shepherd.model.RetryPolicy;
import dev.shepherd.model.StatusEvent;
import dev.shepherd.store.ClaimResult;
import dev.shepherd.store.NewJob;
import dev.shepherd.testsupport.PrivateRedis;
import dev.shepherd.testsupport.ServiceEndpoints;
import dev.shepherd.testsupport.TestNames;
import dev.shepherd.testsupport.WithRealServices;
import io.micrometer.core.instrument.Metrics;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.amqp.rabbit.listener.SimpleMessageListenerContainer;

/**
 * Redis refuses or stops answering while submissions and worker outcomes flow through the submit
 * and status consumers: out of memory ({@code maxmemory} with {@code noeviction}), frozen
 * (SIGSTOP), each for {@link #FAULT}, then restarted into a long {@code LOADING}. The consumers
 * pause with their deliveries unacked instead of handing them back, so no message spends its
 * delivery limit on the outage: every accepted submission becomes a job, every outcome is applied,
 * nothing is dead-lettered, and the queues drain. A private Redis, the shared broker under a unique
 * prefix.
 */
@WithRealServices
class RedisOutageIT {

  /**
   * How long each fault lasts: 10 s here ({@code -Dshepherd.chaos.fault-seconds} to change it),
   * longer than the consumers' pause takes to show and far longer than the five redeliveries that
   * would spend a message's delivery limit in milliseconds; the end-to-end {@code RedisOutageE2EIT}
   * holds its faults 20 s in {@code make chaos}.
   */
  private static final Duration FAULT =
      Duration.ofSeconds(Long.getLong("shepherd.chaos.fault-seconds", 10));

  private static final int OUTCOMES = 150;

  private final SimpleMeterRegistry meters = new SimpleMeterRegistry();
  private final List<SimpleMessageListenerContainer> containers = new ArrayList<>();
  private PrivateRedis redis;
  private EngineFixture fixture;

  @BeforeEach
  void setUp(ServiceEndpoints shared, TestNames names) {
    Metrics.addRegistry(meters); // Listeners count into the global registry
    redis = PrivateRedis.launch();
    var endpoints =
        new ServiceEndpoints(
            shared.rabbitmq(),
            URI.create("redis://127.0.0.1:" + redis.port()),
            "shared broker, private Redis");
    fixture = new EngineFixture(endpoints, names);
  }

  @AfterEach
  void tearDown() {
    containers.forEach(SimpleMessageListenerContainer::stop);
    try {
      if (fixture != null) {
        fixture.close();
      }
    } finally {
      redis.close();
      Metrics.removeRegistry(meters);
    }
  }

  @Test
  void submissionsAndOutcomesWaitOutOomAFrozenRedisAndLoadingWithoutADeadLetter()
      throws InterruptedException {
    // 50,000 keys, each loaded slowly after the restart: about ten seconds of LOADING
    assertThat(
            redis.command(
                "EVAL",
                "for i = 1, 50000 do redis.call('SET', 'filler:' .. i, 'x') end return 1",
                "0"))
        .isEqualTo(":1");
    List<Running> running = runningJobs();
    startConsumers();

    var submitted = new AtomicInteger();
    var published = new AtomicInteger();
    var stop = new AtomicBoolean();
    Thread producer =
        Thread.ofPlatform()
            .name("outage-producer")
            .start(() -> produce(running, submitted, published, stop));
    try {
      await().atMost(Duration.ofSeconds(30)).until(() -> submitted.get() >= 40);

      // 1. out of memory: every write is refused with OOM
      redis.refuseWrites();
      await()
          .atMost(Duration.ofSeconds(15))
          .until(() -> paused(fixture.topology.submitQueue()) > 0);
      hold(FAULT);
      redis.acceptWrites();

      // 2. frozen: nothing answers, connections stay open
      System.out.println("freezing Redis with " + submitted.get() + " submissions published");
      redis.freeze();
      hold(FAULT);
      redis.thaw();

      // 3. restarted: refused connections, then LOADING while the data set loads
      System.out.println("restarting Redis with " + submitted.get() + " submissions published");
      assertThat(redis.restartIntoLoading(Duration.ofNanos(500_000)))
          .as("Redis answered LOADING after the restart")
          .isTrue();
      await().atMost(Duration.ofMinutes(2)).until(() -> published.get() == OUTCOMES);
    } finally {
      stop.set(true);
      producer.join();
    }

    int submissions = submitted.get();
    System.out.printf(
        "Redis outage: %d submissions and %d outcomes published, %.0f retries in place%n",
        submissions, published.get(), retries());
    assertThat(published.get()).isEqualTo(OUTCOMES);
    assertThat(retries()).as("consumers retried in place").isPositive();

    await()
        .atMost(Duration.ofMinutes(2))
        .until(
            () ->
                fixture.messagesIn(fixture.topology.submitQueue()) == 0
                    && fixture.messagesIn(fixture.topology.statusQueue()) == 0);
    assertThat(fixture.messagesIn(fixture.topology.deadQueue())).as("dead-lettered").isZero();
    await()
        .atMost(Duration.ofMinutes(2))
        .until(
            () -> submissionsStored(submissions) == submissions && succeeded(running) == OUTCOMES);
    assertThat(fixture.messagesIn(fixture.topology.deadQueue())).as("dead-lettered").isZero();
    assertThat(fixture.store.deadJobs().listDead(10)).as("dead-job records").isEmpty();
    assertThat(submissionsStored(submissions)).isEqualTo(submissions);
    assertThat(succeeded(running)).isEqualTo(OUTCOMES);
  }

  /** An attempt claimed before the faults, whose outcome the test publishes during them. */
  private record Running(String jobId, long fencingToken) {}

  private List<Running> runningJobs() {
    List<Running> running = new ArrayList<>();
    for (int i = 0; i < OUTCOMES; i++) {
      String id =
          fixture
              .store
              .submissions()
              .submit(new NewJob("demo.noop", "default", "{}", null, null, 2))
              .jobId();
      fixture
          .store
          .outbox()
          .reserveDue(fixture.store.keys().partitionOf(id), 10, Duration.ofMinutes(10));
      var claimed =
          (ClaimResult.Claimed)
              fixture.store.leases().claim(id, 1, "w-outage", Duration.ofMinutes(10));
      running.add(new Running(id, claimed.fencingToken()));
    }
    return running;
  }

  /** The submit and status consumers as the scheduler and the status-tracker wire them. */
  private void startConsumers() {
    var topology = fixture.topology;
    var intake =
        new SubmissionIntake(
            new Contracts(),
            new JobTypeCatalog(topology, Map.of(), 3),
            fixture.store.submissions(),
            id -> {},
            meters);
    var applier =
        new StatusApplier(
            fixture.store.reports(),
            fixture.store.deadJobs(),
            new RetryPolicy(Duration.ZERO, Duration.ZERO),
            new SplittableRandom(1),
            meters,
            topology::poolOf);
    containers.add(
        // as the scheduler consumes: batches stored with one call per partition, acked once
        new SubmitConsumer(intake, fixture.store.deadJobs(), topology)
            .container(
                fixture.rabbitConnections,
                2,
                10,
                new Listeners.Batch(10, Duration.ofMillis(2)),
                InfrastructurePause.Backoff.DEFAULT));
    containers.add(
        // as the status-tracker consumes (ADR 26): batches acked once, paused mid-batch
        Listeners.manualAckBatches(
            fixture.rabbitConnections,
            topology.statusQueue(),
            10,
            new Listeners.Batch(10, Duration.ofMillis(2)),
            InfrastructurePause.Backoff.DEFAULT,
            message -> applier.apply(message.getBody(), topology.statusQueue())));
    containers.forEach(SimpleMessageListenerContainer::start);
  }

  /** 20 submissions a second, and an outcome of a running job every fourth tick, until stopped. */
  private void produce(
      List<Running> running, AtomicInteger submitted, AtomicInteger published, AtomicBoolean stop) {
    var topology = fixture.topology;
    for (int tick = 0; !stop.get(); tick++) {
      int n = submitted.get();
      fixture.publisher.publish(
          new OutgoingMessage(
              topology.submitExchange(),
              topology.submitRoutingKey(),
              "s-" + n,
              submission(n).getBytes(StandardCharsets.UTF_8),
              Map.of()));
      submitted.incrementAndGet();
      if (tick % 4 == 0 && published.get() < running.size()) {
        Running job = running.get(published.get());
        var event =
            new StatusEvent.Succeeded(
                job.jobId(),
                "demo.noop",
                1,
                job.fencingToken(),
                1,
                "w-outage",
                fixture.clock.instant());
        fixture.publisher.publish(
            new OutgoingMessage(
                topology.statusExchange(),
                topology.statusRoutingKey("demo.noop", "SUCCEEDED"),
                job.jobId() + ":1:1",
                Json.mapper().writeValueAsBytes(event),
                Map.of()));
        published.incrementAndGet();
      }
      try {
        Thread.sleep(50); // the producers' pace, not a wait for a result
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }

  private String submission(int n) {
    return "{\"type\":\"demo.noop\",\"payload\":{\"n\":"
        + n
        + "},\"idempotencyKey\":\""
        + fixture.prefix
        + "-"
        + n
        + "\"}";
  }

  private long submissionsStored(int submissions) {
    long stored = 0;
    for (int n = 0; n < submissions; n++) {
      if (fixture.store.queries().findIdByIdempotencyKey(fixture.prefix + "-" + n).isPresent()) {
        stored++;
      }
    }
    return stored;
  }

  private long succeeded(List<Running> running) {
    return running.stream()
        .filter(
            r ->
                fixture.store.queries().find(r.jobId()).orElseThrow().state() == JobState.SUCCEEDED)
        .count();
  }

  private double paused(String queue) {
    var gauge = meters.find(MetricNames.CONSUMERS_PAUSED).tag("queue", queue).gauge();
    return gauge == null ? 0 : gauge.value();
  }

  private double retries() {
    return meters.find(MetricNames.INFRASTRUCTURE_RETRIES).counters().stream()
        .mapToDouble(c -> c.count())
        .sum();
  }

  /** Keeps a fault in place this long: the outage under test, not a wait for a result. */
  private static void hold(Duration fault) throws InterruptedException {
    Thread.sleep(fault); // the fault lasts this long by design: nothing to wait for
  }
}
