package dev.shepherd.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.shepherd.messaging.ConfirmingPublisher;
import dev.shepherd.messaging.OutgoingMessage;
import dev.shepherd.messaging.Topology;
import dev.shepherd.model.JobTimeouts;
import dev.shepherd.model.Json;
import dev.shepherd.model.StatusEvent;
import dev.shepherd.model.StatusMessages;
import dev.shepherd.model.WorkMessage;
import dev.shepherd.store.BlockingRedis;
import dev.shepherd.store.DueEntry;
import dev.shepherd.store.NewJob;
import dev.shepherd.store.Store;
import dev.shepherd.store.StoreSettings;
import dev.shepherd.store.WorkerRegistry;
import dev.shepherd.store.config.StoreProperties;
import dev.shepherd.testsupport.RabbitCleanup;
import dev.shepherd.testsupport.RedisCleanup;
import dev.shepherd.testsupport.ServiceEndpoints;
import dev.shepherd.testsupport.TcpProxy;
import dev.shepherd.testsupport.TestNames;
import dev.shepherd.testsupport.WithRealServices;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.springframework.amqp.core.Message;
import org.springframework.amqp.rabbit.connection.CachingConnectionFactory;
import org.springframework.amqp.rabbit.core.RabbitTemplate;
import org.springframework.data.redis.connection.RedisStandaloneConfiguration;
import org.springframework.data.redis.connection.lettuce.LettuceClientConfiguration;
import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;
import org.springframework.data.redis.core.StringRedisTemplate;
import tools.jackson.databind.JsonNode;

/**
 * What the worker runtime's integration tests share: a topology with a unique prefix on the real
 * broker and Redis, a store, a publisher, workers started and stopped around each test, jobs
 * dispatched as the scheduler does, and the status events they publish.
 */
@WithRealServices
abstract class WorkerRuntimeFixture {
  static final Duration WAIT = Duration.ofSeconds(15);
  static final String TRACE = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
  static final List<String> TYPES =
      List.of(
          "test.phases",
          "test.block",
          "test.slow",
          "test.typed",
          "test.unhandled",
          "test.fail",
          "test.batch",
          "test.plain");

  final SimpleMeterRegistry meters = new SimpleMeterRegistry();
  final List<WorkerRuntime> runtimes = new ArrayList<>();
  final List<Received> received = new CopyOnWriteArrayList<>();
  String prefix;
  Topology topology;
  CachingConnectionFactory rabbit;
  LettuceConnectionFactory redis;
  Store store;
  ConfirmingPublisher publisher;
  ServiceEndpoints endpoints;
  final List<AutoCloseable> closeLast = new ArrayList<>();

  /** A status event as it arrived, with the routing key and message id it came with. */
  record Received(StatusEvent event, String routingKey, String messageId) {}

  @BeforeEach
  void setUp(ServiceEndpoints endpoints, TestNames names) {
    this.endpoints = endpoints;
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
    for (AutoCloseable c : closeLast.reversed()) {
      try {
        c.close();
      } catch (Exception e) {
        // best effort: the test's outcome is already decided
      }
    }
    RabbitCleanup.delete(rabbit, topology.queueNames(), topology.exchangeNames());
    RedisCleanup.deleteByPrefix(redis, prefix);
    rabbit.destroy();
    redis.destroy();
  }

  /** A Redis connection through {@code proxy}, with the command time-out services get. */
  static LettuceConnectionFactory redisThrough(TcpProxy proxy, Duration leaseTtl) {
    var storeProperties =
        new StoreProperties(
            null, null, null, null, leaseTtl, null, null, null, null, null, null, null, null);
    var factory =
        new LettuceConnectionFactory(
            new RedisStandaloneConfiguration("127.0.0.1", proxy.port()),
            LettuceClientConfiguration.builder()
                .commandTimeout(storeProperties.redisCommandTimeout(null))
                .build());
    factory.afterPropertiesSet();
    factory.start();
    return factory;
  }

  String leaseKey(String jobId) {
    return store.keys().base(store.keys().partitionOf(jobId)) + "lease:" + jobId;
  }

  Store store(Clock clock) {
    return store(redis, clock);
  }

  /** A store on {@code redis} whose job-path script calls take the services' blocking client. */
  Store store(LettuceConnectionFactory redis, Clock clock) {
    BlockingRedis blocking = BlockingRedis.of(redis);
    closeLast.add(blocking);
    return Store.of(
        new StringRedisTemplate(redis),
        blocking,
        new StoreSettings(prefix, 4, Duration.ofDays(1)),
        clock,
        new SimpleMeterRegistry());
  }

  WorkerRegistry registry() {
    return registry(redis);
  }

  WorkerRegistry registry(LettuceConnectionFactory redis) {
    return new WorkerRegistry(
        new StringRedisTemplate(redis),
        new StoreSettings(prefix, 4, Duration.ofDays(1)),
        Clock.systemUTC(),
        Duration.ofSeconds(30));
  }

  WorkerRuntime start(int capacity, Duration ttl, JobHandler<?>... handlers) {
    return start(
        new WorkerSettings("w-" + runtimes.size(), "default", capacity, ttl),
        store,
        registry(),
        handlers);
  }

  WorkerRuntime start(
      WorkerSettings settings, Store store, WorkerRegistry registry, JobHandler<?>... handlers) {
    return start(settings, store, registry, rabbit, handlers);
  }

  WorkerRuntime start(
      WorkerSettings settings,
      org.springframework.amqp.rabbit.connection.ConnectionFactory connection,
      JobHandler<?>... handlers) {
    return start(settings, store, registry(), connection, handlers);
  }

  WorkerRuntime start(
      WorkerSettings settings,
      Store store,
      WorkerRegistry registry,
      org.springframework.amqp.rabbit.connection.ConnectionFactory connection,
      JobHandler<?>... handlers) {
    var runtime =
        new WorkerRuntime(
            settings,
            store.leases(),
            store.deadJobs(),
            topology,
            publisher,
            connection,
            List.of(handlers),
            registry,
            Clock.systemUTC(),
            meters);
    runtimes.add(runtime);
    runtime.start();
    return runtime;
  }

  /** Stores a job and publishes its work message the way the scheduler's dispatcher does. */
  WorkMessage dispatch(String type, String payloadJson) {
    String id =
        store.submissions().submit(new NewJob(type, "default", payloadJson, null, null, 3)).jobId();
    return publishDue(id);
  }

  /** Stores a job with its own attempts and timeouts and publishes it as the dispatcher does. */
  WorkMessage dispatch(String type, int maxAttempts, JobTimeouts timeouts) {
    String id =
        store
            .submissions()
            .submit(new NewJob(type, "default", "{}", null, null, maxAttempts, null, timeouts))
            .jobId();
    return publishDue(id);
  }

  /** Publishes the job's due outbox entry (its first attempt or a retry) as the dispatcher does. */
  WorkMessage publishDue(String id) {
    int partition = store.keys().partitionOf(id);
    DueEntry entry =
        store.outbox().reserveDue(partition, 100, Duration.ofSeconds(30)).stream()
            .filter(e -> e.jobId().equals(id))
            .findFirst()
            .orElseThrow();
    var work =
        new WorkMessage(
            id,
            entry.type(),
            entry.attempt(),
            Json.mapper().readTree(entry.payloadJson()),
            entry.submittedAt());
    publishWork(Json.mapper().writeValueAsBytes(work), entry.type());
    store.outbox().markDispatched(partition, List.of(entry));
    return work;
  }

  void publishWork(byte[] body, String routingKey) {
    publisher.publish(
        new OutgoingMessage(
            topology.workExchange(), routingKey, "m", body, Map.of("traceparent", TRACE)));
  }

  /** Consumers subscribed to {@code queue} now (passive declare). */
  long consumers(String queue) {
    return new RabbitTemplate(rabbit)
        .execute(channel -> (long) channel.queueDeclarePassive(queue).getConsumerCount());
  }

  /** Waits until the events of one job satisfy {@code done}; returns them in arrival order. */
  List<Received> awaitEvents(String jobId, Predicate<List<Received>> done) {
    return awaitEvents(jobId, done, WAIT);
  }

  List<Received> awaitEvents(String jobId, Predicate<List<Received>> done, Duration atMost) {
    await().atMost(atMost).until(() -> done.test(drain(jobId)));
    return eventsOf(jobId);
  }

  List<Received> drain(String jobId) {
    var template = new RabbitTemplate(rabbit);
    Message m;
    while ((m = template.receive(topology.statusQueue())) != null) {
      var props = m.getMessageProperties();
      assertThat((String) props.getHeader("traceparent"))
          .startsWith("00-4bf92f3577b34da6a3ce929d0e0e4736-");
      // a message carries one event, or several that finished within one confirm (ADR 36)
      for (StatusEvent event : StatusMessages.decode(m.getBody())) {
        received.add(new Received(event, props.getReceivedRoutingKey(), props.getMessageId()));
      }
    }
    return eventsOf(jobId);
  }

  List<Received> eventsOf(String jobId) {
    return received.stream().filter(r -> r.event().jobId().equals(jobId)).toList();
  }

  boolean hasOutcome(List<Received> events) {
    return events.stream()
        .anyMatch(
            r ->
                r.event() instanceof StatusEvent.Succeeded
                    || r.event() instanceof StatusEvent.Failed);
  }

  static StatusEvent failed(List<Received> events, String error, boolean retryable) {
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

  static JobHandler<JsonNode> handler(String type, HandlerBody body) {
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
