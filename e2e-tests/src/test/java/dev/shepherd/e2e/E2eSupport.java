package dev.shepherd.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.shepherd.messaging.Topology;
import dev.shepherd.messaging.config.MessagingProperties;
import dev.shepherd.testsupport.RabbitCleanup;
import dev.shepherd.testsupport.RedisCleanup;
import dev.shepherd.testsupport.ServiceEndpoints;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.springframework.amqp.rabbit.connection.CachingConnectionFactory;
import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;
import org.springframework.data.redis.core.StringRedisTemplate;

/** What every end-to-end test needs: a cluster under a unique prefix, and its clean-up. */
final class E2eSupport implements AutoCloseable {

  final String prefix;
  final Cluster cluster;
  final Topology topology;
  final CachingConnectionFactory rabbit;
  final LettuceConnectionFactory redis;

  E2eSupport(ServiceEndpoints endpoints, String prefix, int workers, Map<String, String> extra) {
    this.prefix = prefix;
    this.topology = new Topology(prefix, MessagingProperties.DEFAULT_POOLS, 5);
    this.rabbit = endpoints.newRabbitConnectionFactory();
    this.redis = endpoints.newRedisConnectionFactory();
    Path logs = Cluster.repositoryRoot().resolve("e2e-tests/target/e2e-logs/" + prefix);
    this.cluster =
        Cluster.start(
            new Cluster.Spec(
                Cluster.repositoryRoot(),
                prefix,
                endpoints.asSpringProperties(),
                workers,
                4,
                extra,
                logs));
  }

  long messagesIn(String queue) {
    return RabbitCleanup.messageCount(rabbit, queue);
  }

  /** Leases still held: lease keys plus entries of the partitions' lease-deadline sets. */
  long leasesLeft() {
    var template = new StringRedisTemplate(redis);
    long held = 0;
    try (var keys =
        template.scan(
            org.springframework.data.redis.core.ScanOptions.scanOptions()
                .match(prefix + ":*")
                .count(1000)
                .build())) {
      while (keys.hasNext()) {
        String key = keys.next();
        if (key.contains(":lease:")) {
          held++;
        } else if (key.endsWith(":leases")) {
          Long n = template.opsForZSet().zCard(key);
          held += n == null ? 0 : n;
        }
      }
    }
    return held;
  }

  /** Every queue of the topology drains to empty and no lease is left. */
  void assertNothingLeftOver() {
    await()
        .atMost(Duration.ofSeconds(30))
        .untilAsserted(
            () -> {
              for (String queue : topology.queueNames()) {
                assertThat(messagesIn(queue)).as("messages in " + queue).isZero();
              }
              assertThat(leasesLeft()).as("leases left").isZero();
            });
  }

  @Override
  public void close() {
    try {
      cluster.close();
    } finally {
      RabbitCleanup.delete(rabbit, topology.queueNames(), topology.exchangeNames());
      RedisCleanup.deleteByPrefix(redis, prefix);
      rabbit.destroy();
      redis.destroy();
    }
  }
}
