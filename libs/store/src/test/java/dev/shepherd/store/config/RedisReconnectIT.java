package dev.shepherd.store.config;

import static org.awaitility.Awaitility.await;

import dev.shepherd.testsupport.PrivateRedis;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.data.redis.autoconfigure.DataRedisAutoConfiguration;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.data.redis.connection.RedisConnectionFactory;
import org.springframework.data.redis.core.StringRedisTemplate;

/**
 * A service whose Redis was down a while reconnects within about a second of its return. Lettuce on
 * its own doubles its reconnect delay up to 30 s: after a ten-second outage it tried again only
 * about seven seconds after Redis was back, and a chaos run's worker, silent that long, was judged
 * lost and held a delivery it could not claim for 38 s. A private Redis, stopped and started again.
 */
class RedisReconnectIT {

  /** How long Redis stays down: long enough for Lettuce's own delay to pass 8 s. */
  private static final Duration OUTAGE = Duration.ofSeconds(10);

  @Test
  void aServiceReconnectsWithinAboutASecondOfRedisComingBackAfterALongOutage() {
    try (var redis = PrivateRedis.launch()) {
      new ApplicationContextRunner()
          .withConfiguration(AutoConfigurations.of(DataRedisAutoConfiguration.class))
          .withUserConfiguration(StoreConfiguration.class)
          .withPropertyValues(
              "spring.data.redis.port=" + redis.port(), "spring.data.redis.timeout=500ms")
          .run(
              context -> {
                var template =
                    new StringRedisTemplate(context.getBean(RedisConnectionFactory.class));
                template.opsForValue().set("reconnect", "1");

                redis.stop(); // a clean shutdown: the AOF keeps the key
                Thread.sleep(OUTAGE.toMillis()); // the outage itself, not a wait for a condition
                redis.start();

                await()
                    .atMost(Duration.ofSeconds(3))
                    .pollInterval(Duration.ofMillis(100))
                    .ignoreExceptions()
                    .until(() -> "1".equals(template.opsForValue().get("reconnect")));
              });
    }
  }
}
