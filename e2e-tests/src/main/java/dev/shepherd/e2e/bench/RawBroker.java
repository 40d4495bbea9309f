package dev.shepherd.e2e.bench;

import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import com.rabbitmq.client.DefaultConsumer;
import com.rabbitmq.client.Envelope;
import com.rabbitmq.client.MessageProperties;
import java.io.IOException;
import java.net.URI;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * The broker's own limit on this machine: persistent messages, published with confirms into a
 * quorum queue and consumed with manual acks, with amqp-client and nothing of Shepherd's.
 */
final class RawBroker {

  static final int CONFIRM_BATCH = 250;

  private RawBroker() {}

  /** Messages per second from the first publish to the last ack. */
  static double messagesPerSecond(URI amqp, int messages, int bodyBytes) throws Exception {
    var factory = new ConnectionFactory();
    factory.setUri(amqp);
    String queue = "bench.raw." + System.nanoTime();
    try (Connection publishing = factory.newConnection("bench-raw-publisher");
        Connection consuming = factory.newConnection("bench-raw-consumer")) {
      Channel pub = publishing.createChannel();
      pub.queueDeclare(queue, true, false, false, Map.of("x-queue-type", "quorum"));
      pub.confirmSelect();
      Channel sub = consuming.createChannel();
      sub.basicQos(250);
      CountDownLatch done = new CountDownLatch(messages);
      sub.basicConsume(
          queue,
          false,
          new DefaultConsumer(sub) {
            @Override
            public void handleDelivery(
                String tag, Envelope envelope, com.rabbitmq.client.AMQP.BasicProperties p, byte[] b)
                throws IOException {
              getChannel().basicAck(envelope.getDeliveryTag(), false);
              done.countDown();
            }
          });
      byte[] body = new byte[bodyBytes];
      long start = System.nanoTime();
      for (int i = 1; i <= messages; i++) {
        pub.basicPublish("", queue, MessageProperties.PERSISTENT_BASIC, body);
        if (i % CONFIRM_BATCH == 0 || i == messages) {
          pub.waitForConfirmsOrDie(30_000);
        }
      }
      if (!done.await(5, TimeUnit.MINUTES)) {
        throw new IllegalStateException(
            "raw consumer got " + (messages - done.getCount()) + " of " + messages);
      }
      double seconds = (System.nanoTime() - start) / 1e9;
      pub.queueDelete(queue);
      return messages / seconds;
    }
  }
}
