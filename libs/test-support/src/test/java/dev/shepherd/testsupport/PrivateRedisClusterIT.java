package dev.shepherd.testsupport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.HashSet;
import java.util.Set;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.springframework.data.redis.core.StringRedisTemplate;

/**
 * A private Redis Cluster serves every slot from three masters, and the tests' clients follow it
 * through a failover: a SIGKILLed master's replica takes over its slots, and a client reads through
 * the new master what the old one had replicated.
 */
class PrivateRedisClusterIT {

  @Test
  void aKilledMastersReplicaTakesOverItsSlotsAndClientsFollow() {
    try (var cluster = PrivateRedisCluster.launch()) {
      assertThat(cluster.nodes()).hasSize(6);
      assertThat(cluster.masters()).hasSize(3);
      var endpoints = ServiceEndpoints.of(cluster);
      var factory = endpoints.newRedisConnectionFactory();
      try {
        var redis = new StringRedisTemplate(factory);
        // keys of many slots, so every master holds some
        IntStream.range(0, 300).forEach(i -> redis.opsForValue().set("k:" + i, "v" + i));
        Set<Integer> masters = new HashSet<>();
        IntStream.range(0, 300).forEach(i -> masters.add(cluster.masterOf("k:" + i).port()));
        assertThat(masters).hasSize(3);

        PrivateRedis victim = cluster.masterOf("k:7");
        // the replica has what its master acknowledged before WAIT returned
        assertThat(victim.command("WAIT", "1", "5000")).isEqualTo(":1");
        victim.kill();
        cluster.awaitHealthy(Duration.ofSeconds(30));
        assertThat(cluster.masterOf("k:7").port()).isNotEqualTo(victim.port());
        // the client's next topology refresh (at most a second after a command found no node for
        // its slot) sends it to the promoted replica; until then such a command fails at once,
        // as services see it, and they retry it
        await()
            .atMost(Duration.ofSeconds(15))
            .ignoreExceptions()
            .until(() -> "v7".equals(redis.opsForValue().get("k:7")));

        IntStream.range(0, 300)
            .forEach(i -> assertThat(redis.opsForValue().get("k:" + i)).isEqualTo("v" + i));
        redis.opsForValue().set("k:7", "after");
        assertThat(redis.opsForValue().get("k:7")).isEqualTo("after");

        assertThat(RedisCleanup.deleteByPrefix(factory, "k")).isEqualTo(300);
      } finally {
        factory.destroy();
      }
    }
  }
}
