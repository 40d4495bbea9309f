package dev.shepherd.engine.recovery;

import dev.shepherd.messaging.Topology;
import java.util.OptionalLong;
import org.springframework.amqp.rabbit.connection.ConnectionFactory;
import org.springframework.amqp.rabbit.core.RabbitTemplate;

/**
 * How many messages wait, ready, in a pool's work queue: what the stale-queued pass compares the
 * pool's QUEUED jobs against, so that it publishes again only as many jobs as have no message.
 */
@FunctionalInterface
public interface WorkQueueDepth {

  /** No broker to ask: the pass goes by the schedule-to-start timeout alone. */
  WorkQueueDepth UNKNOWN = pool -> OptionalLong.empty();

  /**
   * The messages ready in {@code pool}'s work queue; empty when the broker cannot say now (it is
   * away, or the queue is not there): the pass then publishes nothing for the pool.
   */
  OptionalLong ready(String pool);

  /** Asks the broker with a passive declare of the pool's work queue. */
  static WorkQueueDepth of(ConnectionFactory connectionFactory, Topology topology) {
    var rabbit = new RabbitTemplate(connectionFactory);
    return pool -> {
      try {
        Integer ready =
            rabbit.execute(
                channel -> channel.queueDeclarePassive(topology.workQueue(pool)).getMessageCount());
        return ready == null ? OptionalLong.empty() : OptionalLong.of(ready);
      } catch (RuntimeException e) {
        return OptionalLong.empty(); // the broker away, or no queue
      }
    };
  }
}
