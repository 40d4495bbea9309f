package dev.shepherd.testsupport;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.springframework.amqp.rabbit.core.RabbitTemplate;
import org.springframework.data.redis.core.StringRedisTemplate;

@WithRealServices
class RealServicesExtensionIT {

  @Test
  void theLocatedRedisAnswersAndCleanupDeletesExactlyThePrefixesKeys(
      ServiceEndpoints endpoints, TestNames names) {
    var factory = endpoints.newRedisConnectionFactory();
    try {
      var redis = new StringRedisTemplate(factory);
      for (int i = 0; i < 25; i++) {
        redis.opsForValue().set(names.prefix() + ":k" + i, "v");
      }
      String neighbour = names.prefix() + "x:other";
      redis.opsForValue().set(neighbour, "keep");
      assertThat(RedisCleanup.deleteByPrefix(factory, names.prefix())).isEqualTo(25);
      assertThat(redis.hasKey(neighbour)).isTrue();
      redis.delete(neighbour);
    } finally {
      factory.destroy();
    }
  }

  @Test
  void theLocatedBrokerOpensAChannel(ServiceEndpoints endpoints) {
    var factory = endpoints.newRabbitConnectionFactory();
    try {
      Boolean open = new RabbitTemplate(factory).execute(channel -> channel.isOpen());
      assertThat(open).isTrue();
    } finally {
      factory.destroy();
    }
  }
}
