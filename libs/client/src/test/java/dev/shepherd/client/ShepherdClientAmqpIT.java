package dev.shepherd.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

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

  @Test
  void anAmqpSubmissionTheBrokerCannotRouteFailsTheCall(ServiceEndpoints endpoints, TestNames names)
      throws Exception {
    // The exchange exists but nothing is bound to it: the broker confirms the publish all the
    // same, and only the mandatory flag's basic.return tells that the submission went nowhere.
    String exchange = names.prefix() + ".submit";
    var factory = new ConnectionFactory();
    factory.setUri(endpoints.rabbitmq());
    try (Connection connection = factory.newConnection();
        Channel channel = connection.createChannel();
        ShepherdClient client =
            ShepherdClient.builder().amqpUri(endpoints.rabbitmq()).prefix(names.prefix()).build()) {
      channel.exchangeDeclare(exchange, "direct", true);
      try {
        var submission =
            JobSubmission.of("demo.noop", Json.mapper().createObjectNode())
                .withIdempotencyKey("unroutable-1");
        assertThatThrownBy(() -> client.submitViaAmqp(submission))
            .isInstanceOf(ShepherdClientException.class)
            .hasMessageContaining("unroutable-1")
            .hasMessageContaining("returned");
        // The client stays usable: once the queue is bound, the same key goes through.
        String queue = names.prefix() + ".submit";
        channel.queueDeclare(queue, true, false, false, null);
        channel.queueBind(queue, exchange, "submit");
        try {
          assertThat(client.submitViaAmqp(submission)).isEqualTo("unroutable-1");
          assertThat(channel.basicGet(queue, true)).isNotNull();
        } finally {
          channel.queueDelete(queue);
        }
      } finally {
        channel.exchangeDelete(exchange);
      }
    }
  }

  @Test
  void aClientGivenAClustersAddressesSubmitsThroughTheFirstNodeThatAnswers(
      ServiceEndpoints endpoints, TestNames names) throws Exception {
    // the first "node" is down (nothing listens on its port); the second is the broker
    String down = "127.0.0.1:" + dev.shepherd.testsupport.ManagedProcess.freePort();
    String up = endpoints.rabbitHost() + ":" + endpoints.rabbitPort();
    String exchange = names.prefix() + ".submit";
    String queue = names.prefix() + ".submit.addresses";
    var factory = new ConnectionFactory();
    factory.setUri(endpoints.rabbitmq());
    try (Connection connection = factory.newConnection();
        Channel channel = connection.createChannel();
        ShepherdClient client =
            ShepherdClient.builder()
                .amqpUri(endpoints.rabbitmq())
                .amqpAddresses(down + "," + up)
                .prefix(names.prefix())
                .build()) {
      channel.exchangeDeclare(exchange, "direct", true);
      channel.queueDeclare(queue, true, false, false, null);
      channel.queueBind(queue, exchange, "submit");
      try {
        String key =
            client.submitViaAmqp(JobSubmission.of("demo.noop", Json.mapper().createObjectNode()));
        GetResponse message = channel.basicGet(queue, true);
        assertThat(message).isNotNull();
        assertThat(Json.mapper().readValue(message.getBody(), JobSubmission.class).idempotencyKey())
            .isEqualTo(key);
      } finally {
        channel.queueDelete(queue);
        channel.exchangeDelete(exchange);
      }
    }
  }

  @Test
  void addressesWithoutAUriAreRefusedForTheyCarryNoUser() {
    assertThatThrownBy(
            () -> ShepherdClient.builder().amqpAddresses("127.0.0.1:5672,127.0.0.1:5673").build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("amqpUri");
  }
}
