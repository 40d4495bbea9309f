package dev.shepherd.testsupport;

import java.util.Collection;
import org.springframework.amqp.rabbit.connection.ConnectionFactory;
import org.springframework.amqp.rabbit.core.RabbitAdmin;
import org.springframework.amqp.rabbit.core.RabbitTemplate;

/** Deletes the queues and exchanges a test declared on the shared broker, and counts messages. */
public final class RabbitCleanup {

  private RabbitCleanup() {}

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
