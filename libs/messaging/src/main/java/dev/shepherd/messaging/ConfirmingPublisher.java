package dev.shepherd.messaging;

import dev.shepherd.model.MetricNames;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Metrics;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.springframework.amqp.core.Message;
import org.springframework.amqp.core.MessageDeliveryMode;
import org.springframework.amqp.core.MessageProperties;
import org.springframework.amqp.rabbit.connection.ConnectionFactory;
import org.springframework.amqp.rabbit.connection.CorrelationData;
import org.springframework.amqp.rabbit.connection.RabbitUtils;
import org.springframework.amqp.rabbit.core.RabbitOperations;
import org.springframework.amqp.rabbit.core.RabbitTemplate;

/**
 * Publishes persistent, mandatory messages and waits for the broker's confirm of each. A message
 * that is nacked, returned as unroutable, or not confirmed in time is reported as failed, so the
 * caller keeps it (in the outbox, or unacked) and tries again: nothing is fire-and-forget.
 *
 * <p>The connection factory must have correlated publisher confirms and returns enabled.
 */
public final class ConfirmingPublisher {

  /** The AMQP reply code of a mandatory message that no queue is bound to take. */
  private static final int NO_ROUTE = 312;

  private final RabbitTemplate template;
  private final Duration confirmTimeout;
  private final String userId;
  private final Timer confirmLatency;
  private final MeterRegistry meters;
  private final Map<String, Counter> publishedByExchange = new ConcurrentHashMap<>();

  public ConfirmingPublisher(ConnectionFactory connectionFactory, Duration confirmTimeout) {
    this(connectionFactory, confirmTimeout, Metrics.globalRegistry);
  }

  /**
   * @throws IllegalStateException when the connection factory has no correlated publisher confirms
   *     or no returns: every publish would wait for a confirm that never comes
   */
  public ConfirmingPublisher(
      ConnectionFactory connectionFactory, Duration confirmTimeout, MeterRegistry meters) {
    if (!connectionFactory.isPublisherConfirms()) {
      throw new IllegalStateException(
          "Shepherd publishes with correlated publisher confirms, and this RabbitMQ connection"
              + " factory has none: set spring.rabbitmq.publisher-confirm-type=correlated (Shepherd's"
              + " services import it from shepherd-defaults.yml)");
    }
    if (!connectionFactory.isPublisherReturns()) {
      throw new IllegalStateException(
          "Shepherd publishes mandatory messages and needs the broker's returns of unroutable ones,"
              + " and this RabbitMQ connection factory has none: set"
              + " spring.rabbitmq.publisher-returns=true (Shepherd's services import it from"
              + " shepherd-defaults.yml)");
    }
    this.template = new RabbitTemplate(connectionFactory);
    this.userId = connectionFactory.getUsername();
    this.template.setMandatory(true);
    this.confirmTimeout = confirmTimeout;
    this.meters = meters;
    this.confirmLatency =
        Timer.builder(MetricNames.CONFIRM_LATENCY)
            .description("from publish to the broker's confirm")
            .publishPercentileHistogram()
            .register(meters);
  }

  /** Publishes one message and returns once the broker confirmed it. */
  public void publish(OutgoingMessage message) {
    List<OutgoingMessage> failed = publishAll(List.of(message));
    if (!failed.isEmpty()) {
      throw new PublishException(
          "broker did not confirm message " + message.messageId() + " to " + message.exchange());
    }
  }

  /**
   * Publishes a batch, then waits for every confirm.
   *
   * @return the messages that were not confirmed (empty when all were)
   */
  public List<OutgoingMessage> publishAll(List<OutgoingMessage> messages) {
    return publishBatch(messages).failed();
  }

  /**
   * What became of a batch.
   *
   * @param failed every message the broker did not confirm: nacked, returned, not confirmed in
   *     time, or not sent at all; publishing it again later may succeed
   * @param unroutable those of {@code failed} the broker returned because no queue is bound to
   *     their routing key: publishing them again cannot help until the topology changes
   */
  public record Published(List<OutgoingMessage> failed, List<OutgoingMessage> unroutable) {}

  /**
   * Publishes a batch, then waits for every confirm, telling unroutable messages apart.
   *
   * <p>The whole batch goes out on one channel ({@link RabbitTemplate#invoke}): sent one by one
   * through the template, each message took a channel from the cache and gave it back with its
   * confirm outstanding, a hand-off to the cache's executor per message, about a third of the
   * dispatcher's CPU per job (docs/BENCHMARKS.md).
   */
  public Published publishBatch(List<OutgoingMessage> messages) {
    List<CorrelationData> pending = new ArrayList<>(Collections.nCopies(messages.size(), null));
    List<OutgoingMessage> failed = new ArrayList<>();
    List<OutgoingMessage> unroutable = new ArrayList<>();
    boolean[] settled = {false};
    try {
      template.invoke(
          operations -> {
            for (int i = 0; i < messages.size(); i++) {
              OutgoingMessage m = messages.get(i);
              CorrelationData correlation = new CorrelationData(m.messageId());
              try {
                long sent = System.nanoTime();
                correlation
                    .getFuture()
                    .thenRun(
                        () ->
                            confirmLatency.record(System.nanoTime() - sent, TimeUnit.NANOSECONDS));
                operations.send(m.exchange(), m.routingKey(), toAmqp(m), correlation);
                pending.set(i, correlation);
              } catch (RuntimeException e) {
                // not sent: failed below, and the caller publishes it again
              }
            }
            // the confirms are awaited with the channel still held, so that a channel the broker
            // failed a publish on can be closed rather than given back to the cache
            settle(messages, pending, failed, unroutable);
            settled[0] = true;
            if (failed.size() > unroutable.size()) {
              discardOnReturn(operations);
            }
            return null;
          });
    } catch (RuntimeException e) {
      // no channel (the broker is down): what was not sent is failed below
    }
    if (!settled[0]) {
      failed.clear();
      unroutable.clear();
      settle(messages, pending, failed, unroutable);
    }
    return new Published(failed, unroutable);
  }

  /**
   * Waits up to the confirm timeout for the confirms of {@code pending}, and sorts the failures.
   */
  private void settle(
      List<OutgoingMessage> messages,
      List<CorrelationData> pending,
      List<OutgoingMessage> failed,
      List<OutgoingMessage> unroutable) {
    long deadline = System.nanoTime() + confirmTimeout.toNanos();
    for (int i = 0; i < messages.size(); i++) {
      CorrelationData correlation = pending.get(i);
      if (!confirmed(correlation, deadline)) {
        failed.add(messages.get(i));
        // with returns on, the broker returns a message before it confirms it
        if (correlation != null
            && correlation.getReturned() != null
            && correlation.getReturned().getReplyCode() == NO_ROUTE) {
          unroutable.add(messages.get(i));
        }
      } else {
        published(messages.get(i).exchange()).increment();
      }
    }
  }

  /**
   * Has the channel of {@code operations} closed when the batch gives it back, rather than cached:
   * the broker refused (nacked) or left unanswered a publish on it, or it failed to send one.
   * RabbitMQ 3.10 gives a new channel's quorum-queue client the leader its queue record names; a
   * channel opened while the leader's node had just died keeps failing its publishes to that queue,
   * however often they are published again on it (RabbitClusterE2EIT: the scheduler's work messages
   * unconfirmed for over a minute on a live node, the new leader elected 0.3 s after the channel
   * opened).
   */
  private static void discardOnReturn(RabbitOperations operations) {
    operations.execute(
        channel -> {
          RabbitUtils.setPhysicalCloseRequired(channel, true);
          return null;
        });
  }

  /** The counter of one exchange, looked up once (a registry lookup per message costs more). */
  private Counter published(String exchange) {
    return publishedByExchange.computeIfAbsent(
        exchange, e -> meters.counter(MetricNames.MESSAGES_PUBLISHED, "exchange", e));
  }

  private static boolean confirmed(CorrelationData correlation, long deadlineNanos) {
    if (correlation == null) {
      return false;
    }
    try {
      long wait = Math.max(0, deadlineNanos - System.nanoTime());
      CorrelationData.Confirm confirm = correlation.getFuture().get(wait, TimeUnit.NANOSECONDS);
      return confirm.ack() && correlation.getReturned() == null;
    } catch (TimeoutException | ExecutionException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  private Message toAmqp(OutgoingMessage m) {
    MessageProperties props = new MessageProperties();
    // the broker refuses a user_id that is not the connection's user, so a consumer can trust it:
    // the status-tracker takes status events only from workers' users (ADR 40)
    props.setUserId(userId);
    props.setContentType(MessageProperties.CONTENT_TYPE_JSON);
    props.setContentEncoding("utf-8");
    props.setDeliveryMode(MessageDeliveryMode.PERSISTENT);
    props.setMessageId(m.messageId());
    m.headers().forEach(props::setHeader);
    return new Message(m.body(), props);
  }
}
