package dev.shepherd.engine;

import dev.shepherd.messaging.ConfirmingPublisher;
import dev.shepherd.messaging.Topology;
import dev.shepherd.store.BlockingRedis;
import dev.shepherd.store.Store;
import dev.shepherd.store.StoreSettings;
import dev.shepherd.testsupport.RabbitCleanup;
import dev.shepherd.testsupport.RedisCleanup;
import dev.shepherd.testsupport.ServiceEndpoints;
import dev.shepherd.testsupport.SettableClock;
import dev.shepherd.testsupport.TestNames;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.springframework.amqp.rabbit.connection.CachingConnectionFactory;
import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;
import org.springframework.data.redis.core.StringRedisTemplate;

/** Real Redis and RabbitMQ under a unique prefix, cleaned up by {@link #close()}. */
final class EngineFixture implements AutoCloseable {

  final SettableClock clock = new SettableClock(Instant.parse("2026-01-01T00:00:00Z"));
  final String prefix;
  final Topology topology;
  final LettuceConnectionFactory redisConnections;
  final CachingConnectionFactory rabbitConnections;

  /** The services' way of running the job path's script calls (ADR 57). */
  final BlockingRedis blocking;

  final Store store;

  /** The store's meters: its Redis calls by script. */
  final SimpleMeterRegistry storeMeters = new SimpleMeterRegistry();

  final ConfirmingPublisher publisher;

  EngineFixture(ServiceEndpoints endpoints, TestNames names) {
    prefix = names.prefix();
    topology =
        new Topology(
            prefix, Map.of("default", List.of("demo.noop", "site.generate", "demo.poison")), 3);
    redisConnections = endpoints.newRedisConnectionFactory();
    rabbitConnections = endpoints.newRabbitConnectionFactory();
    blocking = BlockingRedis.of(redisConnections);
    store =
        Store.of(
            new StringRedisTemplate(redisConnections),
            blocking,
            new StoreSettings(prefix, 4, Duration.ofDays(7)),
            clock,
            storeMeters);
    publisher = new ConfirmingPublisher(rabbitConnections, Duration.ofSeconds(5));
    RabbitCleanup.declare(rabbitConnections, topology.declarables());
  }

  private final java.util.Set<String> orderQueues =
      java.util.concurrent.ConcurrentHashMap.newKeySet();

  /**
   * A queue that receives the control orders to {@code worker}, as the worker's own would; deleted
   * by {@link #close()}.
   */
  String ordersTo(String worker) {
    var admin = new org.springframework.amqp.rabbit.core.RabbitAdmin(rabbitConnections);
    var queue =
        new org.springframework.amqp.core.Queue(
            topology.workerControlQueue(worker), false, false, true);
    admin.declareQueue(queue);
    admin.declareBinding(
        org.springframework.amqp.core.BindingBuilder.bind(queue)
            .to(new org.springframework.amqp.core.TopicExchange(topology.controlExchange()))
            .with(topology.workerControlRoutingKey(worker)));
    orderQueues.add(queue.getName());
    return queue.getName();
  }

  /**
   * Takes the job's due outbox entry as a dispatcher would and claims {@code attempt} for {@code
   * worker} with a 30 s lease; returns the claim's fencing token.
   */
  long claim(String id, int attempt, String worker) {
    int partition = store.keys().partitionOf(id);
    var due = store.outbox().reserveDue(partition, 100, Duration.ofSeconds(30));
    store.outbox().markDispatched(partition, due);
    var claimed = store.leases().claim(id, attempt, worker, Duration.ofSeconds(30));
    if (!(claimed instanceof dev.shepherd.store.ClaimResult.Claimed c)) {
      throw new AssertionError("attempt " + attempt + " of " + id + " not claimed: " + claimed);
    }
    return c.fencingToken();
  }

  long messagesIn(String queue) {
    return RabbitCleanup.messageCount(rabbitConnections, queue);
  }

  @Override
  public void close() {
    RabbitCleanup.delete(rabbitConnections, List.copyOf(orderQueues), List.of());
    RabbitCleanup.delete(rabbitConnections, topology.queueNames(), topology.exchangeNames());
    RedisCleanup.deleteByPrefix(redisConnections, prefix);
    rabbitConnections.destroy();
    blocking.close();
    redisConnections.destroy();
  }
}
