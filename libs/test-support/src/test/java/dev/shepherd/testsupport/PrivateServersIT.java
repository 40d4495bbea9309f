package dev.shepherd.testsupport;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.springframework.amqp.core.MessageDeliveryMode;
import org.springframework.amqp.core.MessageProperties;
import org.springframework.amqp.core.QueueBuilder;
import org.springframework.amqp.rabbit.core.RabbitAdmin;
import org.springframework.amqp.rabbit.core.RabbitTemplate;
import org.springframework.data.redis.core.StringRedisTemplate;

/** Private instances keep their data across a restart, and never touch the shared ones. */
class PrivateServersIT {

  @Test
  void aPrivateRedisKeepsWhatItAcknowledgedAcrossACleanRestart() {
    try (var redis = PrivateRedis.launch()) {
      assertThat(redis.port()).isNotEqualTo(6379);
      var endpoints = ServiceEndpoints.of(redis);
      var factory = endpoints.newRedisConnectionFactory();
      try {
        var template = new StringRedisTemplate(factory);
        template.opsForValue().set("kept", "yes");
        redis.restart();
        assertThat(template.opsForValue().get("kept")).isEqualTo("yes");
        redis.kill();
        redis.start();
        assertThat(template.opsForValue().get("kept")).isEqualTo("yes");
      } finally {
        factory.destroy();
      }
    }
  }

  @Test
  void aPrivateBrokerKeepsDurableQueuesAndPersistentMessagesAcrossARestart() {
    try (var rabbit = PrivateRabbit.launch();
        var redis = PrivateRedis.launch()) {
      assertThat(rabbit.port()).isNotEqualTo(5672);
      var factory = ServiceEndpoints.of(rabbit, redis).newRabbitConnectionFactory();
      try {
        var admin = new RabbitAdmin(factory);
        admin.declareQueue(QueueBuilder.durable("kept").quorum().build());
        var props = new MessageProperties();
        props.setDeliveryMode(MessageDeliveryMode.PERSISTENT);
        var template = new RabbitTemplate(factory);
        template.send(
            "", "kept", new org.springframework.amqp.core.Message("hello".getBytes(), props));
        rabbit.restart();
        var message = template.receive("kept", 10_000);
        assertThat(message).isNotNull();
        assertThat(new String(message.getBody(), StandardCharsets.UTF_8)).isEqualTo("hello");
        assertThat(admin.getQueueInfo("kept").getMessageCount()).isZero();
      } finally {
        factory.destroy();
      }
    }
  }
}
