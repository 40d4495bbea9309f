package dev.shepherd.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.shepherd.messaging.ConfirmingPublisher;
import dev.shepherd.messaging.OutgoingMessage;
import dev.shepherd.messaging.Topology;
import dev.shepherd.model.JobState;
import dev.shepherd.model.Json;
import dev.shepherd.model.MetricNames;
import dev.shepherd.model.WorkMessage;
import dev.shepherd.store.BlockingRedis;
import dev.shepherd.store.DueEntry;
import dev.shepherd.store.NewJob;
import dev.shepherd.store.Store;
import dev.shepherd.store.StoreSettings;
import dev.shepherd.store.WorkerRegistry;
import dev.shepherd.testsupport.PrivateRedis;
import dev.shepherd.testsupport.RabbitCleanup;
import dev.shepherd.testsupport.ServiceEndpoints;
import dev.shepherd.testsupport.TestNames;
import dev.shepherd.testsupport.WithRealServices;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.springframework.data.redis.core.StringRedisTemplate;

/**
 * A work message arrives while Redis refuses writes (out of memory): the worker cannot claim it. It
 * keeps the delivery and claims again once Redis accepts writes, instead of handing it back until
 * the queue's delivery limit dead-letters a job that is fine. A private Redis; the shared broker
 * under a unique prefix, with a delivery limit of 2 so that the old behaviour (hand back after a
 * second) fails within seconds.
 */
@WithRealServices
class ClaimDuringRedisOutageIT {

  /**
   * Through either client of the store's single calls (ADR 57): Lettuce's refusal and the blocking
   * client's both count as Redis's state, not as a broken message.
   */
  @ParameterizedTest(name = "blocking client: {0}")
  @ValueSource(booleans = {true, false})
  void aClaimRefusedForOutOfMemoryWaitsForRedisAndTheJobRunsOnceWithoutADeadLetter(
      boolean blockingClient, ServiceEndpoints shared, TestNames names) {
    var meters = new SimpleMeterRegistry();
    var topology = new Topology(names.prefix(), Map.of("default", List.of("test.once")), 2);
    try (var redis = PrivateRedis.launch()) {
      var endpoints =
          new ServiceEndpoints(
              shared.rabbitmq(), URI.create("redis://127.0.0.1:" + redis.port()), "private Redis");
      var rabbit = endpoints.newRabbitConnectionFactory();
      var redisConnections = endpoints.newRedisConnectionFactory();
      var blocking = blockingClient ? BlockingRedis.of(redisConnections) : BlockingRedis.OFF;
      var settings = new StoreSettings(names.prefix(), 4, Duration.ofDays(1));
      var store =
          Store.of(
              new StringRedisTemplate(redisConnections),
              blocking,
              settings,
              Clock.systemUTC(),
              new SimpleMeterRegistry());
      var publisher = new ConfirmingPublisher(rabbit, Duration.ofSeconds(5));
      RabbitCleanup.declare(rabbit, topology.declarables());
      var runs = new AtomicInteger();
      var runtime =
          new WorkerRuntime(
              new WorkerSettings("w-outage", "default", 1, Duration.ofSeconds(30)),
              store.leases(),
              store.deadJobs(),
              topology,
              publisher,
              rabbit,
              List.of(WorkerRuntimeIT.handler("test.once", job -> runs.incrementAndGet())),
              new WorkerRegistry(
                  new StringRedisTemplate(redisConnections),
                  settings,
                  Clock.systemUTC(),
                  Duration.ofSeconds(30)),
              Clock.systemUTC(),
              meters);
      try {
        String id =
            store
                .submissions()
                .submit(new NewJob("test.once", "default", "{}", null, null, 3))
                .jobId();
        int partition = store.keys().partitionOf(id);
        DueEntry entry =
            store.outbox().reserveDue(partition, 10, Duration.ofSeconds(30)).getFirst();
        store.outbox().markDispatched(partition, List.of(entry));
        runtime.start();

        redis.command("CONFIG", "SET", "maxmemory-policy", "noeviction");
        assertThat(redis.command("CONFIG", "SET", "maxmemory", "1")).isEqualTo("+OK");
        var work =
            new WorkMessage(
                id,
                "test.once",
                entry.attempt(),
                Json.mapper().readTree("{}"),
                entry.submittedAt());
        publisher.publish(
            new OutgoingMessage(
                topology.workExchange(),
                "test.once",
                id + ":1",
                Json.mapper().writeValueAsBytes(work),
                Map.of()));
        // the claim fails and is retried in place, long enough for two hand-backs to dead-letter it
        await()
            .atMost(Duration.ofSeconds(30))
            .until(
                () ->
                    meters.find(MetricNames.INFRASTRUCTURE_RETRIES).counters().stream()
                                .mapToDouble(c -> c.count())
                                .sum()
                            >= 5
                        || RabbitCleanup.messageCount(rabbit, topology.deadQueue()) > 0);
        assertThat(RabbitCleanup.messageCount(rabbit, topology.deadQueue()))
            .as("dead-lettered during the outage")
            .isZero();
        assertThat(redis.command("CONFIG", "SET", "maxmemory", "0")).isEqualTo("+OK");

        await()
            .atMost(Duration.ofSeconds(30))
            .until(
                () ->
                    store.queries().find(id).orElseThrow().state() == JobState.RUNNING
                        && runs.get() == 1);
        assertThat(store.queries().find(id).orElseThrow().attempt()).isEqualTo(1);
        assertThat(RabbitCleanup.messageCount(rabbit, topology.deadQueue())).isZero();
        assertThat(RabbitCleanup.messageCount(rabbit, topology.workQueue("default"))).isZero();
      } finally {
        runtime.stop(Duration.ofSeconds(2));
        RabbitCleanup.delete(rabbit, topology.queueNames(), topology.exchangeNames());
        rabbit.destroy();
        blocking.close();
        redisConnections.destroy();
      }
    }
  }
}
