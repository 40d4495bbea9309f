package dev.shepherd.testsupport;

import java.util.Collection;
import org.springframework.amqp.core.Binding;
import org.springframework.amqp.core.Declarable;
import org.springframework.amqp.core.Declarables;
import org.springframework.amqp.core.Exchange;
import org.springframework.amqp.core.Queue;
import org.springframework.amqp.rabbit.connection.ConnectionFactory;
import org.springframework.amqp.rabbit.core.RabbitAdmin;
import org.springframework.amqp.rabbit.core.RabbitTemplate;

/**
 * Declares a test's topology on the shared broker, deletes it again afterwards, and counts
 * messages.
 */
public final class RabbitCleanup {

  private RabbitCleanup() {}

  /** Declares every exchange, queue and binding, as a Spring context's RabbitAdmin would. */
  public static void declare(ConnectionFactory factory, Declarables declarables) {
    var admin = new RabbitAdmin(factory);
    for (Declarable d : declarables.getDeclarables()) {
      switch (d) {
        case Queue q -> admin.declareQueue(q);
        case Exchange x -> admin.declareExchange(x);
        case Binding b -> admin.declareBinding(b);
        default -> throw new IllegalArgumentException("cannot declare " + d);
      }
    }
  }

  public static void delete(
      ConnectionFactory factory, Collection<String> queues, Collection<String> exchanges) {
    var admin = new RabbitAdmin(factory);
    queues.forEach(admin::deleteQueue);
    exchanges.forEach(admin::deleteExchange);
  }

  /** Messages ready in {@code queue} (passive declare). */
  public static long messageCount(ConnectionFactory factory, String queue) {
    return new RabbitTemplate(factory)
        .execute(channel -> (long) channel.queueDeclarePassive(queue).getMessageCount());
  }
}
