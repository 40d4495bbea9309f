package dev.shepherd.messaging;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.shepherd.testsupport.RabbitCleanup;
import dev.shepherd.testsupport.ServiceEndpoints;
import dev.shepherd.testsupport.TestNames;
import dev.shepherd.testsupport.WithRealServices;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.amqp.core.Message;
import org.springframework.amqp.rabbit.connection.CachingConnectionFactory;
import org.springframework.amqp.rabbit.core.RabbitTemplate;

@WithRealServices
class TopologyIT {

  private CachingConnectionFactory connections;
  private Topology topology;
  private ConfirmingPublisher publisher;

  @BeforeEach
  void declare(ServiceEndpoints endpoints, TestNames names) {
    connections = endpoints.newRabbitConnectionFactory();
    topology = new Topology(names.prefix(), Map.of("default", List.of("demo.noop")), 2);
    RabbitCleanup.declare(connections, topology.declarables());
    publisher = new ConfirmingPublisher(connections, Duration.ofSeconds(5));
  }

  @AfterEach
  void cleanUp() {
    RabbitCleanup.delete(connections, topology.queueNames(), topology.exchangeNames());
    connections.destroy();
  }

  private OutgoingMessage work(String id, String jobType) {
    return new OutgoingMessage(
        topology.workExchange(), jobType, id, "{}".getBytes(StandardCharsets.UTF_8), Map.of());
  }

  @Test
  void aConfirmedWorkMessageWaitsInItsPoolQueue() {
    publisher.publish(work("m1", "demo.noop"));
    Message received =
        new RabbitTemplate(connections).receive(topology.workQueue("default"), 5_000);
    assertThat(received).isNotNull();
    assertThat(received.getMessageProperties().getMessageId()).isEqualTo("m1");
  }

  @Test
  void anUnroutableMessageIsReportedAsNotConfirmed() {
    assertThatThrownBy(() -> publisher.publish(work("m2", "no.pool.takes.this")))
        .isInstanceOf(PublishException.class)
        .hasMessageContaining("m2");
  }

  @Test
  void aMessageRejectedPastTheDeliveryLimitIsDeadLettered() {
    publisher.publish(work("poison", "demo.noop"));
    var template = new RabbitTemplate(connections);
    // Reject with requeue until the broker gives up (delivery limit 2) and dead-letters it.
    await()
        .atMost(Duration.ofSeconds(20))
        .until(
            () -> {
              template.execute(
                  channel -> {
                    var delivery = channel.basicGet(topology.workQueue("default"), false);
                    if (delivery != null) {
                      channel.basicNack(delivery.getEnvelope().getDeliveryTag(), false, true);
                    }
                    return null;
                  });
              return RabbitCleanup.messageCount(connections, topology.deadQueue()) == 1;
            });
    Message dead = template.receive(topology.deadQueue(), 5_000);
    assertThat(dead.getMessageProperties().getMessageId()).isEqualTo("poison");
    assertThat(RabbitCleanup.messageCount(connections, topology.workQueue("default"))).isZero();
  }

  @Test
  void aDeadLetterTheDeadLetterConsumerKeepsFailingOnEndsInTheUnrecordedQueue() {
    publisher.publish(
        new OutgoingMessage(
            topology.deadLetterExchange(),
            topology.workQueue("default"),
            "undead",
            "{}".getBytes(StandardCharsets.UTF_8),
            Map.of()));
    var template = new RabbitTemplate(connections);
    // The dead-letter consumer fails on it (a bug) every time: past the limit it moves on, once.
    await()
        .atMost(Duration.ofSeconds(20))
        .until(
            () -> {
              template.execute(
                  channel -> {
                    var delivery = channel.basicGet(topology.deadQueue(), false);
                    if (delivery != null) {
                      channel.basicNack(delivery.getEnvelope().getDeliveryTag(), false, true);
                    }
                    return null;
                  });
              return RabbitCleanup.messageCount(connections, topology.deadUnrecordedQueue()) == 1;
            });
    Message unrecorded = template.receive(topology.deadUnrecordedQueue(), 5_000);
    assertThat(unrecorded.getMessageProperties().getMessageId()).isEqualTo("undead");
    assertThat(RabbitCleanup.messageCount(connections, topology.deadQueue())).isZero();
  }
}
