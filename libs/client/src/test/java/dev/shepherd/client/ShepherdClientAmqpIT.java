package dev.shepherd.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import com.rabbitmq.client.GetResponse;
import dev.shepherd.model.JobSubmission;
import dev.shepherd.model.Json;
import dev.shepherd.model.SubmissionMessages;
import dev.shepherd.testsupport.ServiceEndpoints;
import dev.shepherd.testsupport.TestNames;
import dev.shepherd.testsupport.WithRealServices;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.POJONode;

@WithRealServices
class ShepherdClientAmqpIT {

  @Test
  void anAmqpSubmissionArrivesPersistentAsJsonWithAnIdempotencyKey(
      ServiceEndpoints endpoints, TestNames names) throws Exception {
    withSubmitQueue(
        endpoints,
        names,
        (client, channel, queue) -> {
          String key =
              client.submitViaAmqp(JobSubmission.of("demo.noop", Json.mapper().createObjectNode()));
          GetResponse message = channel.basicGet(queue, true);
          assertThat(message).isNotNull();
          assertThat(message.getProps().getDeliveryMode()).isEqualTo(2);
          assertThat(message.getProps().getContentType()).isEqualTo("application/json");
          JobSubmission received = Json.mapper().readValue(message.getBody(), JobSubmission.class);
          assertThat(received.type()).isEqualTo("demo.noop");
          assertThat(received.idempotencyKey()).isEqualTo(key).isNotBlank();
        });
  }

  /**
   * What a test does with a client and a channel to its own submit queue, bound to the exchange.
   */
  @FunctionalInterface
  private interface WithSubmitQueue {
    void run(ShepherdClient client, Channel channel, String queue) throws Exception;
  }

  /**
   * Runs {@code test} with a client of the test's prefix, its submit exchange and a queue bound to
   * it with {@code submit}; both are deleted afterwards.
   */
  private static void withSubmitQueue(
      ServiceEndpoints endpoints, TestNames names, WithSubmitQueue test) throws Exception {
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
        test.run(client, channel, queue);
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

  @Test
  void submissionsWaitingTogetherShareMessagesInTheOrderTheyWereGiven(
      ServiceEndpoints endpoints, TestNames names) throws Exception {
    withSubmitQueue(
        endpoints,
        names,
        (client, channel, queue) -> {
          // 200 given at once: the first goes alone, the rest queue up behind its confirm
          List<CompletableFuture<String>> accepted = new ArrayList<>();
          List<String> given = new ArrayList<>();
          for (int i = 0; i < 200; i++) {
            String key = names.prefix() + "-" + i;
            given.add(key);
            accepted.add(
                client.submitViaAmqpAsync(
                    JobSubmission.of("demo.noop", Json.mapper().createObjectNode())
                        .withIdempotencyKey(key)));
          }
          assertThat(accepted.stream().map(CompletableFuture::join).toList()).isEqualTo(given);

          List<String> received = new ArrayList<>();
          int messages = 0;
          int arrays = 0;
          for (GetResponse m = channel.basicGet(queue, true);
              m != null;
              m = channel.basicGet(queue, true)) {
            messages++;
            JsonNode body = Json.mapper().readTree(m.getBody());
            if (body.isArray()) {
              arrays++;
              assertThat(body.size()).isBetween(2, SubmissionMessages.MAX_SUBMISSIONS);
              body.forEach(e -> received.add(e.get("idempotencyKey").asString()));
            } else {
              received.add(body.get("idempotencyKey").asString());
            }
            assertThat(m.getProps().getDeliveryMode()).isEqualTo(2);
          }
          assertThat(received).as("each once, in the order given").isEqualTo(given);
          assertThat(arrays).as("those that waited together shared messages").isPositive();
          assertThat(messages).isLessThan(200);
        });
  }

  @Test
  void sharedSubmissionsTheBrokerCannotRouteFailEveryCaller(
      ServiceEndpoints endpoints, TestNames names) throws Exception {
    String exchange = names.prefix() + ".submit";
    var factory = new ConnectionFactory();
    factory.setUri(endpoints.rabbitmq());
    try (Connection connection = factory.newConnection();
        Channel channel = connection.createChannel();
        ShepherdClient client =
            ShepherdClient.builder().amqpUri(endpoints.rabbitmq()).prefix(names.prefix()).build()) {
      channel.exchangeDeclare(exchange, "direct", true);
      try {
        List<CompletableFuture<String>> accepted = new ArrayList<>();
        for (int i = 0; i < 50; i++) {
          accepted.add(
              client.submitViaAmqpAsync(
                  JobSubmission.of("demo.noop", Json.mapper().createObjectNode())));
        }
        for (CompletableFuture<String> f : accepted) {
          assertThatThrownBy(f::join)
              .hasCauseInstanceOf(ShepherdClientException.class)
              .hasMessageContaining("returned");
        }
      } finally {
        channel.exchangeDelete(exchange);
      }
    }
  }

  @Test
  void aClosedClientFailsWhatItHadNotSentAndRefusesMore(
      ServiceEndpoints endpoints, TestNames names) {
    ShepherdClient client =
        ShepherdClient.builder().amqpUri(endpoints.rabbitmq()).prefix(names.prefix()).build();
    client.close();
    assertThatThrownBy(
            () ->
                client.submitViaAmqpAsync(
                    JobSubmission.of("demo.noop", Json.mapper().createObjectNode())))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("closed");
  }

  /** A payload whose encoding runs out of memory: the {@link Error} the sender must survive. */
  public record Exploding(String value) {
    @Override
    public String value() {
      throw new OutOfMemoryError("a payload too large to encode (test)");
    }
  }

  @Test
  void anErrorWhileSendingFailsThatSubmissionAndTheNextOnesStillGoOut(
      ServiceEndpoints endpoints, TestNames names) throws Exception {
    withSubmitQueue(
        endpoints,
        names,
        (client, channel, queue) -> {
          CompletableFuture<String> exploding =
              client.submitViaAmqpAsync(
                  JobSubmission.of("demo.noop", new POJONode(new Exploding("x"))));
          assertThatThrownBy(() -> exploding.get(30, TimeUnit.SECONDS))
              .isInstanceOf(ExecutionException.class)
              .cause()
              .isInstanceOf(ShepherdClientException.class)
              .hasRootCauseInstanceOf(OutOfMemoryError.class);

          String key =
              client.submitViaAmqp(JobSubmission.of("demo.noop", Json.mapper().createObjectNode()));
          GetResponse message = channel.basicGet(queue, true);
          assertThat(message).isNotNull();
          assertThat(
                  Json.mapper().readValue(message.getBody(), JobSubmission.class).idempotencyKey())
              .isEqualTo(key);
          assertThat(channel.basicGet(queue, true)).as("nothing else was published").isNull();
        });
  }
}
