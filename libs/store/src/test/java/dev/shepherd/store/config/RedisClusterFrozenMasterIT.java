package dev.shepherd.store.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.shepherd.testsupport.PrivateRedisCluster;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.data.redis.autoconfigure.DataRedisAutoConfiguration;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.data.redis.connection.RedisConnectionFactory;
import org.springframework.data.redis.core.StringRedisTemplate;

/**
 * A service configured as the scheduler is (no {@code spring.data.redis.timeout}) writes again soon
 * after a Redis Cluster master that stopped answering was replaced by its replica. A master that
 * hangs (a paused VM, a stalled disk, a lost network) holds every command sent to it, the client's
 * own topology reads included, until the command time-out: with Lettuce's default minute, the
 * scheduler of a clean-clone run stopped dispatching for 60 s after a failover while the workers,
 * whose time-out was already a quarter of the lease TTL, followed it within seconds. A private
 * cluster of three masters with a replica each, one master frozen (SIGSTOP).
 */
class RedisClusterFrozenMasterIT {

  /**
   * Well under the minute a hung command held the client, and over what the new time-out allows:
   * the cluster's failover (about two node time-outs), a command and a topology read that wait for
   * the frozen master (a time-out each), and a refresh period.
   */
  private static final Duration FOLLOWED_WITHIN = Duration.ofSeconds(45);

  @Test
  void aServiceWritesAgainSoonAfterAFrozenMasterWasReplaced() {
    try (var cluster = PrivateRedisCluster.launch()) {
      new ApplicationContextRunner()
          .withConfiguration(AutoConfigurations.of(DataRedisAutoConfiguration.class))
          .withUserConfiguration(StoreConfiguration.class)
          .withPropertyValues(
              "spring.data.redis.cluster.nodes=" + String.join(",", cluster.addresses()))
          .run(
              context -> {
                var template =
                    new StringRedisTemplate(context.getBean(RedisConnectionFactory.class));
                var master = cluster.masters().getFirst();
                var replica = cluster.replicaOf(master);
                String key = cluster.keyServedBy(master);
                template.opsForValue().set(key, "before");

                master.freeze();
                await()
                    .atMost(FOLLOWED_WITHIN)
                    .pollInterval(Duration.ofMillis(200))
                    .ignoreExceptions()
                    .until(
                        () -> {
                          template.opsForValue().set(key, "after");
                          return true;
                        });
                assertThat(replica.command("GET", key))
                    .as("the write went to the promoted replica")
                    .isEqualTo("after");
              });
    }
  }
}
