package dev.shepherd.messaging;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.rabbitmq.client.Channel;
import dev.shepherd.testsupport.ServiceEndpoints;
import dev.shepherd.testsupport.TestNames;
import dev.shepherd.testsupport.WithRealServices;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.IntSupplier;
import org.junit.jupiter.api.Test;
import org.springframework.amqp.core.QueueBuilder;
import org.springframework.amqp.rabbit.connection.CachingConnectionFactory;
import org.springframework.amqp.rabbit.core.RabbitAdmin;

/**
 * A channel on which the broker refused a publish is not used again: RabbitMQ 3.10 can leave a
 * channel opened just after a quorum queue's leader died failing every publish to that queue for
 * good (RabbitClusterE2EIT), and a cached channel would be handed out again for each retry. Here
 * the broker refuses on purpose: a queue holding at most no message, overflow {@code
 * reject-publish}, nacks whatever is routed to it.
 */
@WithRealServices
class ConfirmingPublisherChannelIT {

  @Test
  void aChannelOnWhichAPublishWasNackedIsClosedAndTheNextPublishOpensANewOne(
      ServiceEndpoints endpoints, TestNames names) {
    var connections = endpoints.newRabbitConnectionFactory();
    IntSupplier closed = closedChannels(connections);
    var admin = new RabbitAdmin(connections);
    String full = names.prefix() + ".full";
    String open = names.prefix() + ".open";
    try {
      admin.declareQueue(
          QueueBuilder.nonDurable(full)
              .maxLength(0)
              .overflow(QueueBuilder.Overflow.rejectPublish)
              .build());
      admin.declareQueue(QueueBuilder.nonDurable(open).build());
      var publisher = new ConfirmingPublisher(connections, Duration.ofSeconds(5));
      publisher.publish(to(open, "a"));
      publisher.publish(to(open, "b"));
      assertThat(closed.getAsInt()).isZero();

      assertThatThrownBy(() -> publisher.publish(to(full, "refused")))
          .isInstanceOf(PublishException.class);

      // a confirming channel's physical close may happen on the cache's executor
      await()
          .atMost(Duration.ofSeconds(10))
          .untilAsserted(
              () ->
                  assertThat(closed.getAsInt())
                      .as("channels closed after the nack: the refused one, not handed out again")
                      .isOne());
      publisher.publish(to(open, "c"));
    } finally {
      admin.deleteQueue(full);
      admin.deleteQueue(open);
      connections.destroy();
    }
  }

  @Test
  void publishesThatSucceedKeepTheirChannel(ServiceEndpoints endpoints, TestNames names) {
    var connections = endpoints.newRabbitConnectionFactory();
    IntSupplier closed = closedChannels(connections);
    var admin = new RabbitAdmin(connections);
    String open = names.prefix() + ".open";
    try {
      admin.declareQueue(QueueBuilder.nonDurable(open).build());
      var publisher = new ConfirmingPublisher(connections, Duration.ofSeconds(5));
      for (int i = 0; i < 5; i++) {
        publisher.publish(to(open, "m" + i));
      }
      assertThat(closed.getAsInt()).as("channels closed").isZero();
    } finally {
      admin.deleteQueue(open);
      connections.destroy();
    }
  }

  /** How many of the channels {@code connections} opened are closed now. */
  private static IntSupplier closedChannels(CachingConnectionFactory connections) {
    List<Channel> opened = new CopyOnWriteArrayList<>();
    connections.addChannelListener((channel, transactional) -> opened.add(channel));
    return () -> (int) opened.stream().filter(channel -> !channel.isOpen()).count();
  }

  private static OutgoingMessage to(String queue, String id) {
    return new OutgoingMessage("", queue, id, "{}".getBytes(StandardCharsets.UTF_8), Map.of());
  }
}
