package dev.shepherd.e2e.bench;

import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import com.rabbitmq.client.DefaultConsumer;
import com.rabbitmq.client.Envelope;
import com.rabbitmq.client.MessageProperties;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * The broker's own limit on this machine: persistent messages, published with confirms into a
 * quorum queue and consumed with manual acks, with amqp-client and nothing of Shepherd's.
 */
final class RawBroker {

  static final int CONFIRM_BATCH = 250;

  /**
   * Consumers per hop in {@link #hopsAtRate}, each of prefetch one and publishing with its own
   * confirm awaited: as many as a worker's slots, so the hops keep up with the rate instead of
   * waiting for each other's round trips.
   */
  static final int HOP_CONSUMERS = 8;

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

  /**
   * The broker alone carrying a job's two durable hops (submit and work queues; the status queue
   * carries only what a worker could not write into the store, ADR 56) at a steady {@code
   * jobsPerSecond}: each hop a persistent message published into a quorum queue, delivered to one
   * of {@link #HOP_CONSUMERS} consumers of prefetch one, which publishes the next hop with its
   * confirm awaited and acks, as a trickle of jobs takes them when no batch forms. Returns the
   * broker's CPU µs per job and its share of one core over the run, and the percentiles of each
   * message's time from its first publish to its delivery on the last hop: the floor under
   * Shepherd's own latency run at the same rate, in CPU and in time.
   */
  static Map<String, Object> hopsAtRate(URI amqp, double jobsPerSecond, Duration duration)
      throws Exception {
    return hopsAtRate(amqp, jobsPerSecond, duration, 2);
  }

  /** {@link #hopsAtRate(URI, double, Duration)} with {@code hops} hops instead of a job's two. */
  static Map<String, Object> hopsAtRate(URI amqp, double jobsPerSecond, Duration duration, int hops)
      throws Exception {
    var factory = new ConnectionFactory();
    factory.setUri(amqp);
    String prefix = "bench.hops." + System.nanoTime() + ".";
    long jobs = Math.max(1, (long) (jobsPerSecond * duration.toMillis() / 1000.0));
    CountDownLatch done = new CountDownLatch((int) jobs);
    // microseconds from the producer's publish to the last hop's delivery, one per message
    List<Long> micros = java.util.Collections.synchronizedList(new ArrayList<>());
    try (Connection connection = factory.newConnection("bench-raw-hops")) {
      Channel setup = connection.createChannel();
      for (int i = 0; i < hops; i++) {
        setup.queueDeclare(prefix + i, true, false, false, Map.of("x-queue-type", "quorum"));
      }
      for (int c = 0; c < hops * HOP_CONSUMERS; c++) {
        int hop = c % hops;
        Channel in = connection.createChannel();
        in.basicQos(1);
        Channel out = connection.createChannel();
        out.confirmSelect();
        in.basicConsume(
            prefix + hop,
            false,
            new DefaultConsumer(in) {
              @Override
              public void handleDelivery(
                  String tag,
                  Envelope envelope,
                  com.rabbitmq.client.AMQP.BasicProperties p,
                  byte[] body)
                  throws IOException {
                if (hop < hops - 1) {
                  // the publish time travels on in the message id
                  out.basicPublish("", prefix + (hop + 1), p, body);
                  try {
                    out.waitForConfirmsOrDie(30_000);
                  } catch (Exception e) {
                    throw new IOException(e);
                  }
                } else {
                  micros.add((System.nanoTime() - Long.parseLong(p.getMessageId())) / 1_000);
                  done.countDown();
                }
                in.basicAck(envelope.getDeliveryTag(), false);
              }
            });
      }
      Channel producer = connection.createChannel();
      producer.confirmSelect();
      byte[] body = "{\"type\":\"demo.noop\",\"payload\":{}}".getBytes(StandardCharsets.UTF_8);
      // NaN where the broker is not a process of this machine
      double cpuBefore = Costs.infrastructureCpuSeconds().getOrDefault("rabbitmq", Double.NaN);
      long start = System.nanoTime();
      Pacer pace = new Pacer(jobsPerSecond);
      for (long i = 0; i < jobs; i++) {
        pace.await();
        producer.basicPublish(
            "",
            prefix + 0,
            MessageProperties.PERSISTENT_BASIC
                .builder()
                .messageId(Long.toString(System.nanoTime()))
                .build(),
            body);
        // as the bench's steady producer (Submitter): confirms awaited every CONFIRM_BATCH
        if ((i + 1) % CONFIRM_BATCH == 0) {
          producer.waitForConfirmsOrDie(30_000);
        }
      }
      if (!done.await(2, TimeUnit.MINUTES)) {
        throw new IllegalStateException(
            "the last hop got " + (jobs - done.getCount()) + " of " + jobs + " jobs");
      }
      double seconds = (System.nanoTime() - start) / 1e9;
      double cpu =
          Costs.infrastructureCpuSeconds().getOrDefault("rabbitmq", Double.NaN) - cpuBefore;
      for (int i = 0; i < hops; i++) {
        setup.queueDelete(prefix + i);
      }
      Map<String, Object> figures = new LinkedHashMap<>();
      figures.put("jobsPerSecond", Math.round(jobs / seconds));
      if (!Double.isNaN(cpu)) {
        figures.put("rabbitmqCpuMicrosPerJob", Math.round(cpu * 1e6 / jobs));
        figures.put("rabbitmqShareOfACore", Math.round(cpu * 100 / seconds) / 100.0);
      }
      Map<String, Double> inMicros = Latency.percentiles(micros);
      Map<String, Double> millis = new LinkedHashMap<>();
      inMicros.forEach((q, v) -> millis.put(q, Math.round(v / 100) / 10.0));
      figures.put("publishToLastDeliveryMillis", millis);
      return figures;
    }
  }
}
