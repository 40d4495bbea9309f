package dev.shepherd.e2e.bench;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import dev.shepherd.model.JobSubmission;
import dev.shepherd.model.Json;
import java.net.URI;

/**
 * Submits jobs as fast as a producer can over AMQP: persistent messages to the submit exchange,
 * confirmed in batches, as a bulk producer would.
 */
public final class Submitter implements AutoCloseable {

  private final Connection connection;
  private final Channel channel;
  private final String exchange;
  private final AMQP.BasicProperties properties;
  private int unconfirmed;

  public Submitter(URI amqp, String prefix) throws Exception {
    var factory = new ConnectionFactory();
    factory.setUri(amqp);
    connection = factory.newConnection("bench-submitter");
    channel = connection.createChannel();
    channel.confirmSelect();
    exchange = prefix + ".submit";
    // user_id: the scheduler takes a submission as its broker-validated user's (ADR 40)
    properties =
        new AMQP.BasicProperties.Builder()
            .contentType("application/json")
            .deliveryMode(2)
            .userId(factory.getUsername())
            .build();
  }

  /** Publishes one submission; every batch of them waits for the broker's confirms. */
  public void submit(JobSubmission job) throws Exception {
    channel.basicPublish(
        exchange, "submit", true, properties, Json.mapper().writeValueAsBytes(job));
    if (++unconfirmed >= RawBroker.CONFIRM_BATCH) {
      flush();
    }
  }

  /** Waits for the confirms of everything published so far. */
  public void flush() throws Exception {
    if (unconfirmed > 0) {
      channel.waitForConfirmsOrDie(30_000);
      unconfirmed = 0;
    }
  }

  @Override
  public void close() throws Exception {
    flush();
    connection.close();
  }
}
