package dev.shepherd.store.config;

import static org.assertj.core.api.Assertions.assertThat;

import dev.shepherd.store.BlockingRedis;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.springframework.boot.data.redis.autoconfigure.DataRedisProperties;

/** Both cluster clients, Lettuce's and the blocking one, read the topology at the same period. */
class ClusterRefreshPeriodTest {

  @Test
  void theConfiguredLettucePeriodIsTheOneBothClientsTake() {
    var properties = new DataRedisProperties();
    properties.getLettuce().getCluster().getRefresh().setPeriod(Duration.ofSeconds(17));

    assertThat(StoreConfiguration.clusterRefreshPeriod(properties))
        .isEqualTo(Duration.ofSeconds(17));
  }

  @Test
  void fiveSecondsWhenNothingIsConfigured() {
    assertThat(StoreConfiguration.clusterRefreshPeriod(new DataRedisProperties()))
        .isEqualTo(BlockingRedis.CLUSTER_REFRESH_PERIOD)
        .isEqualTo(Duration.ofSeconds(5));
    assertThat(StoreConfiguration.clusterRefreshPeriod(null)).isEqualTo(Duration.ofSeconds(5));
  }
}
