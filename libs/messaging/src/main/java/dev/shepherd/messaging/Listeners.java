package dev.shepherd.messaging;

import dev.shepherd.model.MetricNames;
import io.micrometer.core.instrument.Metrics;
import java.time.Clock;
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
 * is after its effect is durable in Redis. Handlers turn bad input into dead records themselves and
 * return normally; what they throw is classified ({@link FailureKind}):
 *
 * <ul>
 *   <li>Redis or the broker failed: the consumer keeps the delivery unacked and processes it again
 *       in place, backing off, until Redis answers ({@link InfrastructurePause}). Handing it back
 *       would spend the message's delivery limit on an outage and dead-letter a good message.
 *   <li>Anything else is a bug in processing this message: the delivery is handed back to the
 *       queue; the quorum queue counts it, and past the delivery limit the broker dead-letters it,
 *       so a message that crashes our code still ends as a dead-job record.
 * </ul>
 */
public final class Listeners {

  private static final Logger log = LoggerFactory.getLogger(Listeners.class);

  private Listeners() {}

  /** A container whose consumers pause with {@link InfrastructurePause.Backoff#DEFAULT}. */
  public static SimpleMessageListenerContainer manualAck(
      ConnectionFactory connectionFactory,
      String queue,
      int consumers,
      int prefetch,
      Consumer<Message> handler) {
    return manualAck(
        connectionFactory,
        queue,
        consumers,
        prefetch,
        InfrastructurePause.Backoff.DEFAULT,
        handler);
  }

  /**
   * @param backoff the waits of a consumer between retries of a delivery while Redis or the broker
   *     fails
   */
  public static SimpleMessageListenerContainer manualAck(
      ConnectionFactory connectionFactory,
      String queue,
      int consumers,
      int prefetch,
      InfrastructurePause.Backoff backoff,
      Consumer<Message> handler) {
    var consumed = Metrics.counter(MetricNames.MESSAGES_CONSUMED, "queue", queue);
    var container = new SimpleMessageListenerContainer(connectionFactory);
    // a stopping container ends the pause of its consumers, which then hand their delivery back
    var pause =
        new InfrastructurePause(
            queue, backoff, () -> !container.isActive(), Clock.systemUTC(), Metrics.globalRegistry);
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
                boolean processed;
                try {
                  processed = pause.retry(e, channel::isOpen, () -> handler.accept(message));
                } catch (RuntimeException bug) {
                  log.warn(
                      "processing a message from {} failed; it will be delivered again: {}",
                      queue,
                      bug.toString());
                  channel.basicNack(tag, false, true);
                  return;
                }
                if (!processed) {
                  // stopping while Redis is down: another consumer (or this one, later) takes it;
                  // on a closed channel the broker has taken it back already
                  if (channel.isOpen()) {
                    channel.basicNack(tag, false, true);
                  }
                  return;
                }
              }
              channel.basicAck(tag, false);
            });
    return container;
  }
}
