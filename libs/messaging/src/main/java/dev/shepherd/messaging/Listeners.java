package dev.shepherd.messaging;

import com.rabbitmq.client.Channel;
import dev.shepherd.model.MetricNames;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Metrics;
import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;
import java.util.function.Consumer;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.amqp.core.AcknowledgeMode;
import org.springframework.amqp.core.Message;
import org.springframework.amqp.rabbit.connection.ConnectionFactory;
import org.springframework.amqp.rabbit.listener.SimpleMessageListenerContainer;
import org.springframework.amqp.rabbit.listener.api.ChannelAwareBatchMessageListener;
import org.springframework.amqp.rabbit.listener.api.ChannelAwareMessageListener;
import org.springframework.amqp.rabbit.support.RabbitExceptionTranslator;

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

  /**
   * A queue that does not exist yet is waited for, not fatal: where another service declares the
   * topology (ADR 41) this one may start first, and its consumers subscribe once the queue is there
   * (Spring retries every 5 s and logs each failure).
   */
  private static void waitForTheQueue(SimpleMessageListenerContainer container) {
    container.setMissingQueuesFatal(false);
  }

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
    waitForTheQueue(container);
    container.setAcknowledgeMode(AcknowledgeMode.MANUAL);
    container.setConcurrentConsumers(consumers);
    container.setPrefetchCount(prefetch);
    container.setDefaultRequeueRejected(true);
    container.setMessageListener(
        (ChannelAwareMessageListener)
            (message, channel) -> {
              long tag = message.getMessageProperties().getDeliveryTag();
              consumed.increment();
              switch (process(message, channel, pause, handler, queue)) {
                case DONE -> channel.basicAck(tag, false);
                case BUG -> channel.basicNack(tag, false, true);
                case STOPPING -> {
                  // stopping while Redis is down: another consumer (or this one, later) takes it;
                  // on a closed channel the broker has taken it back already
                  if (channel.isOpen()) {
                    channel.basicNack(tag, false, true);
                  }
                }
              }
            });
    return container;
  }

  /**
   * How a batch consumer gathers deliveries: it takes up to {@code size} of them, waiting at most
   * {@code maxWait} for each next one and {@code maxWait} for the whole batch, then processes them
   * in order and acks the batch with one {@code basic.ack(multiple)}. So at most about twice {@code
   * maxWait} is added to a delivery's processing, and nothing at all while deliveries keep coming;
   * one that comes to an idle consumer is processed at once. An idle consumer polls every {@link
   * GatherWaits#IDLE_POLL}, not every {@code maxWait}.
   *
   * @param size the most deliveries processed before one ack (1 acks each on its own)
   * @param maxWait how long the consumer waits for one more delivery before it processes the batch
   */
  public record Batch(int size, Duration maxWait) {

    public Batch {
      if (size < 1) {
        throw new IllegalArgumentException("a batch holds at least one delivery, not " + size);
      }
      if (maxWait == null || maxWait.isNegative() || maxWait.isZero()) {
        throw new IllegalArgumentException("a batch's wait must be positive, was " + maxWait);
      }
    }
  }

  /**
   * A container whose one consumer takes deliveries in batches ({@link Batch}) and acks each batch
   * once, after every delivery in it was processed in order, as {@link #manualAck} processes one:
   * an infrastructure failure pauses the consumer in place; a bug hands that one delivery back at
   * once (it is not acked with the others); a consumer stopping during a pause acks what it
   * processed and hands the rest of the batch back. One consumer keeps the queue's order.
   */
  public static SimpleMessageListenerContainer manualAckBatches(
      ConnectionFactory connectionFactory,
      String queue,
      int prefetch,
      Batch batch,
      InfrastructurePause.Backoff backoff,
      Consumer<Message> handler) {
    return manualAckBatches(
        connectionFactory, queue, prefetch, batch, backoff, messages -> messages, handler);
  }

  /**
   * Processes a whole batch in one go, where that is cheaper than one delivery at a time (one store
   * call for many events or submissions).
   */
  @FunctionalInterface
  public interface WholeBatch {
    /**
     * Returns the deliveries of {@code messages} it did not process, in order: none when it
     * processed every one; all of them, having changed nothing, to have them processed one at a
     * time; or those a failure left unprocessed, to have only them processed one at a time. An
     * exception (Redis down, a bug) has every delivery processed one at a time, so processing must
     * then be safe to repeat for the deliveries it already processed.
     */
    List<Message> process(List<Message> messages);

    /** A whole-batch step that processes all or nothing: true when it processed every one. */
    static WholeBatch allOrNothing(Predicate<List<Message>> processedAll) {
      return messages -> processedAll.test(messages) ? List.of() : messages;
    }
  }

  /**
   * {@link #manualAckBatches(ConnectionFactory, String, int, Batch, InfrastructurePause.Backoff,
   * Consumer)} that first hands each batch to {@code whole}; only when that declines or fails does
   * {@code handler} process the deliveries one at a time, with the pause and the hand-back above.
   */
  public static SimpleMessageListenerContainer manualAckBatches(
      ConnectionFactory connectionFactory,
      String queue,
      int prefetch,
      Batch batch,
      InfrastructurePause.Backoff backoff,
      WholeBatch whole,
      Consumer<Message> handler) {
    return manualAckBatches(connectionFactory, queue, 1, prefetch, batch, backoff, whole, handler);
  }

  /**
   * As {@link #manualAckBatches(ConnectionFactory, String, int, Batch, InfrastructurePause.Backoff,
   * WholeBatch, Consumer)} with {@code consumers} consumers, each taking its own batches: the
   * queue's order holds within a batch only.
   */
  public static SimpleMessageListenerContainer manualAckBatches(
      ConnectionFactory connectionFactory,
      String queue,
      int consumers,
      int prefetch,
      Batch batch,
      InfrastructurePause.Backoff backoff,
      WholeBatch whole,
      Consumer<Message> handler) {
    var consumed = Metrics.counter(MetricNames.MESSAGES_CONSUMED, "queue", queue);
    var container = new SimpleMessageListenerContainer(connectionFactory);
    var pause =
        new InfrastructurePause(
            queue, backoff, () -> !container.isActive(), Clock.systemUTC(), Metrics.globalRegistry);
    container.setQueueNames(queue);
    waitForTheQueue(container);
    container.setAcknowledgeMode(AcknowledgeMode.MANUAL);
    container.setConcurrentConsumers(consumers);
    container.setPrefetchCount(Math.max(prefetch, batch.size()));
    container.setDefaultRequeueRejected(true);
    // on even for a batch of one: the container hands a batch listener nothing else
    container.setConsumerBatchEnabled(true);
    container.setBatchSize(batch.size());
    // a long poll while idle, maxWait while a batch is gathered (ADR 53)
    var waits = new GatherWaits(container::setReceiveTimeout, batch.maxWait());
    container.setAfterReceivePostProcessors(waits);
    container.setBatchReceiveTimeout(batch.maxWait().toMillis());
    container.setMessageListener(
        (ChannelAwareBatchMessageListener)
            (messages, channel) -> {
              try {
                List<Message> rest = unprocessed(messages, whole, queue);
                if (rest.isEmpty()) {
                  consumed.increment(messages.size());
                  channel.basicAck(
                      messages.getLast().getMessageProperties().getDeliveryTag(), true);
                } else {
                  processBatch(messages, rest, channel, pause, handler, queue, consumed);
                }
              } catch (IOException e) {
                throw RabbitExceptionTranslator.convertRabbitAccessException(e);
              } finally {
                waits.batchEnded();
              }
            });
    return container;
  }

  private static List<Message> unprocessed(List<Message> messages, WholeBatch whole, String queue) {
    try {
      return whole.process(messages);
    } catch (RuntimeException e) {
      log.debug(
          "a batch of {} from {} failed whole; processing it one at a time: {}",
          messages.size(),
          queue,
          e.toString());
      return messages;
    }
  }

  /**
   * Processes {@code rest} of {@code messages} one at a time, in order, and acks what was
   * processed, the deliveries the whole-batch step processed among them.
   */
  private static void processBatch(
      List<Message> messages,
      List<Message> rest,
      Channel channel,
      InfrastructurePause pause,
      Consumer<Message> handler,
      String queue,
      Counter consumed)
      throws IOException {
    Set<Message> toProcess = Collections.newSetFromMap(new IdentityHashMap<>());
    toProcess.addAll(rest);
    long ackUpTo = -1; // the last delivery processed; acking it acks every earlier one still held
    for (Message message : messages) {
      long tag = message.getMessageProperties().getDeliveryTag();
      consumed.increment();
      Processed processed =
          toProcess.contains(message)
              ? process(message, channel, pause, handler, queue)
              : Processed.DONE;
      switch (processed) {
        case DONE -> ackUpTo = tag;
        case BUG -> channel.basicNack(tag, false, true); // alone: the others are fine
        case STOPPING -> {
          // on a closed channel the broker has taken the whole batch back already
          if (!channel.isOpen()) {
            return;
          }
          if (ackUpTo >= 0) {
            channel.basicAck(ackUpTo, true);
          }
          long last = messages.getLast().getMessageProperties().getDeliveryTag();
          channel.basicNack(last, true, true); // this one and the rest of the batch
          return;
        }
      }
    }
    if (ackUpTo >= 0) {
      channel.basicAck(ackUpTo, true);
    }
  }

  /** What became of one delivery's processing. */
  private enum Processed {
    /** Its effect is durable: ack it. */
    DONE,
    /** Processing it failed for a reason of its own: hand it back, towards the delivery limit. */
    BUG,
    /** Redis or the broker was down and the container is stopping: hand it back unspent. */
    STOPPING
  }

  private static Processed process(
      Message message,
      Channel channel,
      InfrastructurePause pause,
      Consumer<Message> handler,
      String queue) {
    try {
      handler.accept(message);
      return Processed.DONE;
    } catch (RuntimeException e) {
      try {
        return pause.retry(e, channel::isOpen, () -> handler.accept(message))
            ? Processed.DONE
            : Processed.STOPPING;
      } catch (RuntimeException bug) {
        log.warn(
            "processing a message from {} failed; it will be delivered again: {}",
            queue,
            bug.toString());
        return Processed.BUG;
      }
    }
  }
}
