package dev.shepherd.client;

import static org.assertj.core.api.Assertions.assertThat;

import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import com.rabbitmq.client.GetResponse;
import dev.shepherd.model.JobSubmission;
import dev.shepherd.model.Json;
import dev.shepherd.testsupport.ServiceEndpoints;
import dev.shepherd.testsupport.TestNames;
import dev.shepherd.testsupport.WithRealServices;
import org.junit.jupiter.api.Test;

@WithRealServices
class ShepherdClientAmqpIT {

  @Test
  void anAmqpSubmissionArrivesPersistentAsJsonWithAnIdempotencyKey(
      ServiceEndpoints endpoints, TestNames names) throws Exception {
    String exchange = names.prefix() + ".submit";
    String queue = names.prefix() + ".submit";
    var factory = new ConnectionFactory();
    factory.setUri(endpoints.rabbitmq());
    try (Connection connection = factory.newConnection();
        Channel channel = connection.createChannel();
        ShepherdClient client =
            ShepherdClient.builder().amqpUri(endpoints.rabbitmq()).prefix(names.prefix()).build()) {
      channel.exchangeDeclare(exchange, "direct", true);
      channel.queueDeclare(queue, true, false, false, null);
      channel.queueBind(queue, exchange, "submit");
      try {
        String key =
            client.submitViaAmqp(JobSubmission.of("demo.noop", Json.mapper().createObjectNode()));
        GetResponse message = channel.basicGet(queue, true);
        assertThat(message).isNotNull();
        assertThat(message.getProps().getDeliveryMode()).isEqualTo(2);
        assertThat(message.getProps().getContentType()).isEqualTo("application/json");
        JobSubmission received = Json.mapper().readValue(message.getBody(), JobSubmission.class);
        assertThat(received.type()).isEqualTo("demo.noop");
        assertThat(received.idempotencyKey()).isEqualTo(key).isNotBlank();
      } finally {
        channel.queueDelete(queue);
        channel.exchangeDelete(exchange);
      }
    }
  }
}
