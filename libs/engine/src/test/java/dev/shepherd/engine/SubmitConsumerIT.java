package dev.shepherd.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.shepherd.contracts.Contracts;
import dev.shepherd.engine.intake.JobTypeCatalog;
import dev.shepherd.engine.intake.SubmissionIntake;
import dev.shepherd.engine.intake.SubmitConsumer;
import dev.shepherd.messaging.InfrastructurePause;
import dev.shepherd.messaging.Listeners;
import dev.shepherd.messaging.OutgoingMessage;
import dev.shepherd.model.DeadJob;
import dev.shepherd.model.JobState;
import dev.shepherd.model.MetricNames;
import dev.shepherd.model.SubmissionMessages;
import dev.shepherd.store.BlockingRedis;
import dev.shepherd.store.Store;
import dev.shepherd.store.StoreSettings;
import dev.shepherd.testsupport.ServiceEndpoints;
import dev.shepherd.testsupport.TcpProxy;
import dev.shepherd.testsupport.TestNames;
import dev.shepherd.testsupport.WithRealServices;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.amqp.rabbit.listener.SimpleMessageListenerContainer;
import org.springframework.data.redis.connection.RedisStandaloneConfiguration;
import org.springframework.data.redis.connection.lettuce.LettuceClientConfiguration;
import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;
import org.springframework.data.redis.core.StringRedisTemplate;

/**
 * The scheduler's AMQP submit consumer ({@link SubmitConsumer}) against a real broker and Redis:
 * submissions are stored in batches, bad ones become dead-job records, and a batch one of whose
 * store calls failed stores each of its submissions exactly once.
 */
@WithRealServices
class SubmitConsumerIT {

  private EngineFixture fixture;
  private final SimpleMeterRegistry meters = new SimpleMeterRegistry();
  private SubmitConsumer consumer;
  private SimpleMessageListenerContainer container;

  @BeforeEach
  void setUp(ServiceEndpoints endpoints, TestNames names) {
    fixture = new EngineFixture(endpoints, names);
    consumer = consumerOn(fixture.store);
  }

  /** A consumer that stores into {@code store}, counting its accepted jobs in {@link #meters}. */
  private SubmitConsumer consumerOn(Store store) {
    var intake =
        new SubmissionIntake(
            new Contracts(),
            new JobTypeCatalog(fixture.topology, Map.of(), 3),
            store.submissions(),
            id -> {},
            meters);
    return new SubmitConsumer(intake, store.deadJobs(), fixture.topology);
  }

  @AfterEach
  void tearDown() {
    if (container != null) {
      container.stop();
    }
    fixture.close();
  }

  private void start() {
    container =
        consumer.container(
            fixture.rabbitConnections,
            1,
            100,
            new Listeners.Batch(50, Duration.ofMillis(20)),
            new InfrastructurePause.Backoff(Duration.ofMillis(50), Duration.ofMillis(200)));
    container.start();
  }

  private void publish(List<String> bodies) {
    List<OutgoingMessage> messages = new ArrayList<>();
    for (int i = 0; i < bodies.size(); i++) {
      messages.add(
          new OutgoingMessage(
              fixture.topology.submitExchange(),
              fixture.topology.submitRoutingKey(),
              fixture.prefix + "-" + i,
              bodies.get(i).getBytes(StandardCharsets.UTF_8),
              Map.of()));
    }
    assertThat(fixture.publisher.publishAll(messages)).isEmpty();
  }

  private static String job(int n, String extra) {
    return "{\"type\":\"demo.noop\",\"payload\":{\"n\":" + n + "}" + extra + "}";
  }

  /** Jobs the intake accepted (counted once each, on acceptance). */
  private long submitCalls() {
    return (long)
        meters.find(MetricNames.JOBS_SUBMITTED).counters().stream()
            .mapToDouble(c -> c.count())
            .sum();
  }

  @Test
  void submissionsAreStoredInBatchesAndBadOnesBecomeDeadRecords() {
    List<String> bodies = new ArrayList<>();
    IntStream.range(0, 200).forEach(i -> bodies.add(job(i, "")));
    bodies.add(100, "{\"type\":\"no.such.type\",\"payload\":{}}");
    bodies.add(150, "not json");
    publish(bodies);

    start();

    await()
        .atMost(Duration.ofSeconds(20))
        .until(() -> fixture.store.queries().countInState(JobState.SUBMITTED) == 200);
    await().atMost(Duration.ofSeconds(20)).until(() -> fixture.messagesIn(queue()) == 0);
    List<String> reasons =
        fixture.store.deadJobs().listDead(10).stream().map(DeadJob::reason).toList();
    assertThat(reasons)
        .hasSize(2)
        .anyMatch(r -> r.contains("no.such.type"))
        .anyMatch(r -> r.startsWith("Malformed JSON"));
    assertThat(submitCalls()).isEqualTo(200);
    assertThat(fixture.storeMeters.counter(MetricNames.REDIS_CALLS, "op", "submit").count())
        .as("stored in batches, not one call per submission")
        .isLessThan(100);
  }

  private String queue() {
    return fixture.topology.submitQueue();
  }

  @Test
  void aBatchWhoseStoreCallFailedStoresEachSubmissionOnce() {
    // one submission's partition call fails (its idempotency entry has the wrong type: a failure of
    // that message, so it goes back to the queue until its delivery limit dead-letters it); the
    // others of its batch, stored in other calls, must not be stored again
    String bad = "bad-" + fixture.prefix;
    int badPartition = fixture.store.keys().partitionOfKey(bad);
    String good =
        IntStream.range(0, 100)
            .mapToObj(i -> "good-" + i + "-" + fixture.prefix)
            .filter(k -> fixture.store.keys().partitionOfKey(k) != badPartition)
            .findFirst()
            .orElseThrow();
    var redis = new StringRedisTemplate(fixture.redisConnections);
    redis.opsForHash().put(fixture.store.keys().idempotencyKey(bad), "not", "a string");
    publish(
        List.of(
            job(0, ",\"orderingKey\":\"" + good + "\""),
            job(1, ",\"idempotencyKey\":\"" + bad + "\""),
            job(2, ",\"orderingKey\":\"" + good + "\"")));

    start();

    await()
        .atMost(Duration.ofSeconds(30))
        .until(
            () ->
                fixture.messagesIn(fixture.topology.deadQueue()) == 1
                    && fixture.messagesIn(queue()) == 0);
    assertThat(submitCalls()).as("two jobs, none stored twice").isEqualTo(2);
    assertThat(fixture.store.queries().orderingKeyQueue(good)).hasSize(2);
    assertThat(fixture.store.queries().countInState(JobState.SUBMITTED)).isEqualTo(2);
  }

  private String keyed(int n) {
    return job(n, ",\"idempotencyKey\":\"k" + n + "-" + fixture.prefix + "\"");
  }

  @Test
  void anArrayCarriesSeveralSubmissionsEachJudgedOnItsOwn() {
    String tooLong =
        IntStream.range(0, SubmissionMessages.MAX_SUBMISSIONS + 1)
            .mapToObj(this::keyed)
            .collect(Collectors.joining(",", "[", "]"));
    publish(
        List.of(
            "[" + keyed(1) + "," + keyed(2) + "," + job(3, "") + "," + keyed(4) + "]",
            " ["
                + keyed(5)
                + ",{\"type\":\"no.such.type\",\"payload\":{},"
                + "\"idempotencyKey\":\"x-"
                + fixture.prefix
                + "\"}]",
            "[]",
            tooLong,
            "[" + keyed(7) + ",1]",
            keyed(6)));

    start();

    await().atMost(Duration.ofSeconds(20)).until(() -> fixture.messagesIn(queue()) == 0);
    await()
        .atMost(Duration.ofSeconds(20))
        .until(() -> fixture.store.deadJobs().listDead(10).size() == 5);
    assertThat(fixture.store.queries().countInState(JobState.SUBMITTED))
        .as("the keyed elements and the lone submission")
        .isEqualTo(5);
    assertThat(submitCalls()).isEqualTo(5);
    List<DeadJob> dead = fixture.store.deadJobs().listDead(10);
    assertThat(dead)
        .as("a keyless element is refused alone, with its own JSON as the raw message")
        .anySatisfy(
            d -> {
              assertThat(d.reason()).contains("idempotencyKey");
              assertThat(d.rawMessage()).isEqualTo(job(3, ""));
            });
    assertThat(dead).anySatisfy(d -> assertThat(d.reason()).contains("no.such.type"));
    assertThat(dead)
        .as("an array holding anything but objects is refused whole, one record for it")
        .filteredOn(d -> d.reason().contains("JSON objects only"))
        .singleElement()
        .satisfies(d -> assertThat(d.rawMessage()).isEqualTo("[" + keyed(7) + ",1]"));
    assertThat(dead)
        .filteredOn(d -> d.reason().contains("an array of submissions holds 1 to"))
        .extracting(DeadJob::reason)
        .containsExactlyInAnyOrder(
            "Invalid submission: an array of submissions holds 1 to 100 of them; this one holds 0",
            "Invalid submission: an array of submissions holds 1 to 100 of them; this one holds"
                + " 101");
  }

  @Test
  void anArrayOnePartOfWhichFailedToStoreIsTakenAgainWholeAndStoresEachOnce() {
    // the array's element with key `bad` fails its partition's call (its idempotency entry has the
    // wrong type), so the message goes back to the queue until its delivery limit dead-letters
    // it; the other elements, stored the first time, answer as duplicates when it comes back
    String bad = "bad-" + fixture.prefix;
    var redis = new StringRedisTemplate(fixture.redisConnections);
    redis.opsForHash().put(fixture.store.keys().idempotencyKey(bad), "not", "a string");
    publish(
        List.of(
            "["
                + keyed(1)
                + ","
                + job(2, ",\"idempotencyKey\":\"" + bad + "\"")
                + ","
                + keyed(3)
                + ","
                + keyed(4)
                + "]"));

    start();

    await()
        .atMost(Duration.ofSeconds(30))
        .until(
            () ->
                fixture.messagesIn(fixture.topology.deadQueue()) == 1
                    && fixture.messagesIn(queue()) == 0);
    assertThat(submitCalls()).as("three jobs, none stored twice").isEqualTo(3);
    assertThat(fixture.store.queries().countInState(JobState.SUBMITTED)).isEqualTo(3);
  }

  @Test
  void aSubmissionWithoutAKeyWhoseStoreReplyWasLostIsStoredOnce(ServiceEndpoints endpoints) {
    // the consumer reaches Redis through a proxy that drops Redis's replies: its store call stores
    // the job, then fails (time-out), and the message is submitted again until the proxy passes
    // replies again; submitted again under a new id, the job would be stored twice
    try (TcpProxy proxy = TcpProxy.to(endpoints.redisHost(), endpoints.redisPort())) {
      var flakyRedis =
          new LettuceConnectionFactory(
              new RedisStandaloneConfiguration("127.0.0.1", proxy.port()),
              LettuceClientConfiguration.builder().commandTimeout(Duration.ofSeconds(1)).build());
      flakyRedis.afterPropertiesSet();
      flakyRedis.start();
      var flakyMeters = new SimpleMeterRegistry();
      try (BlockingRedis blocking = BlockingRedis.of(flakyRedis)) {
        consumer =
            consumerOn(
                Store.of(
                    new StringRedisTemplate(flakyRedis),
                    blocking,
                    new StoreSettings(fixture.prefix, 4, Duration.ofDays(7)),
                    fixture.clock,
                    flakyMeters));
        start();
        // a first job records its pool in Redis (a call made before the jobs' own, once a minute)
        publish(List.of(job(0, "")));
        await().atMost(Duration.ofSeconds(20)).until(() -> submitCalls() == 1);
        double callsBefore = flakyMeters.counter(MetricNames.REDIS_CALLS, "op", "submit").count();

        proxy.dropReplies();
        publish(List.of(job(1, "")));

        // read straight from Redis, not through the proxy
        await()
            .atMost(Duration.ofSeconds(20))
            .until(() -> fixture.store.queries().countInState(JobState.SUBMITTED) == 2);
        // the call failed and the message is being submitted again
        await()
            .atMost(Duration.ofSeconds(20))
            .until(
                () ->
                    flakyMeters.counter(MetricNames.REDIS_CALLS, "op", "submit").count()
                        >= callsBefore + 2);
        proxy.pass();
        await().atMost(Duration.ofSeconds(20)).until(() -> submitCalls() == 2);
        await().atMost(Duration.ofSeconds(20)).until(() -> fixture.messagesIn(queue()) == 0);
        assertThat(fixture.store.queries().countInState(JobState.SUBMITTED))
            .as("the job its lost reply stored, found again under its id, not stored twice")
            .isEqualTo(2);
        assertThat(submitCalls()).as("accepted once").isEqualTo(2);
      } finally {
        container.stop();
        container = null;
        flakyRedis.destroy();
      }
    }
  }
}
