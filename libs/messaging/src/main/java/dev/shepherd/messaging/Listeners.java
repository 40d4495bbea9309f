package dev.shepherd.messaging;

import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.amqp.core.AcknowledgeMode;
import org.springframework.amqp.core.Message;
import org.springframework.amqp.rabbit.connection.ConnectionFactory;
import org.springframework.amqp.rabbit.listener.SimpleMessageListenerContainer;
import org.springframework.amqp.rabbit.listener.api.ChannelAwareMessageListener;

/**
 * Listener containers with explicit acks: a delivery is acked only after the handler returned, that
 * is after its effect is durable in Redis. A handler that throws (Redis down) leaves the delivery
 * to be requeued; the quorum queue counts it, and past the delivery limit the broker dead-letters
 * it, so a message that can never be processed still ends as a dead-job record. Handlers turn bad
 * input into dead records themselves and return normally.
 */
public final class Listeners {

  private static final Logger log = LoggerFactory.getLogger(Listeners.class);

  private Listeners() {}

  public static SimpleMessageListenerContainer manualAck(
      ConnectionFactory connectionFactory,
      String queue,
      int consumers,
      int prefetch,
      Consumer<Message> handler) {
    var consumed =
        io.micrometer.core.instrument.Metrics.counter(
            dev.shepherd.model.MetricNames.MESSAGES_CONSUMED, "queue", queue);
    var container = new SimpleMessageListenerContainer(connectionFactory);
    container.setQueueNames(queue);
    container.setAcknowledgeMode(AcknowledgeMode.MANUAL);
    container.setConcurrentConsumers(consumers);
    container.setPrefetchCount(prefetch);
    container.setDefaultRequeueRejected(true);
    container.setMessageListener(
        (ChannelAwareMessageListener)
            (message, channel) -> {
              long tag = message.getMessageProperties().getDeliveryTag();
              consumed.increment();
              try {
                handler.accept(message);
              } catch (RuntimeException e) {
                log.warn(
                    "processing a message from {} failed; it will be delivered again: {}",
                    queue,
                    e.toString());
                channel.basicNack(tag, false, true);
                return;
              }
              channel.basicAck(tag, false);
            });
    return container;
  }
}
