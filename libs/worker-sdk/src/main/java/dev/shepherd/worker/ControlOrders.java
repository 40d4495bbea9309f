package dev.shepherd.worker;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.DefaultConsumer;
import com.rabbitmq.client.Envelope;
import com.rabbitmq.client.ShutdownSignalException;
import dev.shepherd.messaging.InfrastructurePause;
import dev.shepherd.messaging.Topology;
import dev.shepherd.model.Json;
import dev.shepherd.model.MetricNames;
import dev.shepherd.model.WorkerControl;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Collection;
import java.util.Optional;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;
import org.springframework.amqp.core.Binding;
import org.springframework.amqp.core.Declarable;
import org.springframework.amqp.core.Declarables;
import org.springframework.amqp.core.Queue;
import org.springframework.amqp.rabbit.connection.ChannelProxy;
import org.springframework.amqp.rabbit.connection.ConnectionFactory;
import org.springframework.amqp.rabbit.connection.RabbitUtils;

/**
 * A worker's orders from the control exchange ({@link WorkerControl}): its own classic,
 * non-durable, auto-delete queue {@link Topology#workerControlQueue}, bound with {@link
 * Topology#workerControlRoutingKey}, consumed with manual acks on one channel of its own.
 *
 * <p>An order names an attempt by job id and fencing token. One for an attempt this worker runs is
 * applied through {@link Cancellations}: CANCEL gracefully, ABANDON at once. One for an attempt it
 * does not run (finished, or another attempt of the job) is acked and ignored; so is one that
 * cannot be read, which is logged and counted. The consumer never stops for a bad message: the job
 * record changed before the order was sent, and the attempt's next lease renewal would stop it
 * anyway, so an order is only a shortcut and never worth a redelivery.
 *
 * <p>The queue and its binding are declared each time the consumer subscribes: an auto-delete queue
 * is gone once its consumer is (the connection dropped, the broker restarted). A consumer that
 * loses its channel, or that the broker cancels, subscribes again on a new channel, backing off
 * from 100 ms to 5 s while the broker is away, as {@link Slots} do. Orders published while no queue
 * exists are dropped by the broker; the lease renewal covers them.
 */
final class ControlOrders implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(ControlOrders.class);

  /** Orders are a few bytes and applied in microseconds; this only bounds a burst. */
  private static final int PREFETCH = 50;

  private static final Duration CLOSE_WAIT = Duration.ofSeconds(5);

  private final ConnectionFactory connectionFactory;
  private final Declarables declarables;
  private final String queue;
  private final Collection<Attempt<?>> running;
  private final Cancellations cancellations;
  private final InfrastructurePause.Backoff backoff;
  private final Counter consumed;
  private final Counter unreadable;
  private final Thread thread;
  private final BlockingQueue<Object> inbox = new LinkedBlockingQueue<>();
  private volatile boolean closed;
  private volatile Channel proxy; // what the connection factory handed out; closed physically
  private volatile Channel channel; // its target: never reopened behind our back
  private int failures; // on the thread only

  /**
   * @param running the attempts this worker runs now; an order applies to one of them or to none
   */
  ControlOrders(
      ConnectionFactory connectionFactory,
      Topology topology,
      String workerId,
      Collection<Attempt<?>> running,
      Cancellations cancellations,
      MeterRegistry meters,
      InfrastructurePause.Backoff backoff) {
    this.connectionFactory = connectionFactory;
    this.declarables = topology.workerControlDeclarables(workerId);
    this.queue = topology.workerControlQueue(workerId);
    this.running = running;
    this.cancellations = cancellations;
    this.backoff = backoff;
    this.consumed = meters.counter(MetricNames.MESSAGES_CONSUMED, "queue", queue);
    this.unreadable =
        Counter.builder(MetricNames.UNREADABLE_MESSAGES)
            .tag("source", "control")
            .description("control orders that could not be read; acked and ignored")
            .register(meters);
    this.thread = Thread.ofPlatform().name("shepherd-control").daemon().unstarted(this::run);
  }

  /** Declares the queue and starts consuming, on a thread of its own. */
  void start() {
    thread.start();
  }

  /** True while a consumer is subscribed (for tests and health). */
  boolean isSubscribed() {
    Channel c = channel;
    return c != null && c.isOpen();
  }

  /** Stops consuming; the queue goes with its consumer. */
  @Override
  public void close() {
    closed = true;
    inbox.add(Signal.WAKE);
    try {
      thread.join(CLOSE_WAIT);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private enum Signal {
    WAKE
  }

  /** The consumer of {@code channel} is gone: the channel closed or the broker cancelled it. */
  private record Lost(Channel channel, String why) {}

  private void run() {
    try {
      while (!closed) {
        if (channel == null && !subscribe()) {
          continue;
        }
        if (next() instanceof Lost lost && lost.channel() == channel) {
          log.warn("the consumer of {} is gone ({}); subscribing again", queue, lost.why());
          closeChannel();
          pause(backoff.before(++failures));
        }
      }
    } finally {
      closeChannel(); // ends the consumer; the auto-delete queue goes with it
    }
  }

  private boolean subscribe() {
    try {
      proxy = connectionFactory.createConnection().createChannel(false);
      channel = proxy instanceof ChannelProxy p ? p.getTargetChannel() : proxy;
      declare(channel);
      channel.basicQos(PREFETCH);
      channel.basicConsume(queue, false, new OrderConsumer(channel));
      if (failures > 0) {
        log.info("consuming {} again", queue);
      } else {
        log.debug("consuming {}", queue);
      }
      failures = 0;
      return true;
    } catch (IOException | RuntimeException e) {
      if (failures == 0) {
        log.warn("could not subscribe to {}; retrying: {}", queue, e.toString());
      }
      closeChannel();
      pause(backoff.before(++failures));
      return false;
    }
  }

  private void declare(Channel on) throws IOException {
    for (Declarable d : declarables.getDeclarables()) {
      switch (d) {
        case Queue q ->
            on.queueDeclare(
                q.getName(), q.isDurable(), q.isExclusive(), q.isAutoDelete(), q.getArguments());
        case Binding b -> on.queueBind(b.getDestination(), b.getExchange(), b.getRoutingKey());
        default -> throw new IllegalStateException("a worker does not declare " + d);
      }
    }
  }

  private Object next() {
    try {
      return inbox.take();
    } catch (InterruptedException e) {
      return Signal.WAKE; // stopped through close(), not by interrupts
    }
  }

  /** Waits, unless closed first. */
  private void pause(Duration wait) {
    try {
      long until = System.nanoTime() + wait.toNanos();
      for (long left = wait.toNanos(); left > 0 && !closed; left = until - System.nanoTime()) {
        if (inbox.poll(left, TimeUnit.NANOSECONDS) == Signal.WAKE) {
          return;
        }
      }
    } catch (InterruptedException e) {
      // ends the wait
    }
  }

  private synchronized void closeChannel() {
    Channel closing = proxy;
    proxy = null;
    channel = null;
    if (closing != null) {
      // a physical close: a cached channel would keep its consumer, or reopen by itself
      RabbitUtils.setPhysicalCloseRequired(closing, true);
      RabbitUtils.closeChannel(closing);
    }
  }

  // ---- one order -------------------------------------------------------------------------------

  /** Applies one order's body; never throws. */
  private void apply(byte[] body) {
    consumed.increment();
    WorkerControl order;
    try {
      order = Json.mapper().readValue(body, WorkerControl.class);
      if (order.kind() == null || order.jobId() == null) {
        throw new IllegalArgumentException("an order needs a kind and a job id");
      }
    } catch (RuntimeException e) {
      unreadable.increment();
      log.warn(
          "ignoring an unreadable order from {}: {}; it was: {}",
          queue,
          e.getMessage(),
          abbreviated(body));
      return;
    }
    Optional<Attempt<?>> target =
        running.stream()
            .filter(
                a -> a.jobId().equals(order.jobId()) && a.fencingToken() == order.fencingToken())
            .findFirst();
    if (target.isEmpty()) {
      log.debug(
          "ignoring {} of job {} token {}: this worker does not run that attempt (finished, or"
              + " another attempt)",
          order.kind(),
          order.jobId(),
          order.fencingToken());
      return;
    }
    Attempt<?> attempt = target.get();
    MDC.setContextMap(attempt.claim().mdc());
    try {
      switch (order.kind()) {
        case CANCEL -> cancellations.cancel(attempt, describe(order));
        case ABANDON -> cancellations.abandon(attempt, describe(order));
      }
    } finally {
      MDC.clear();
    }
  }

  /** "cancelled by alice: wrong input", or "abandoned by timeout:stall: ...". */
  private static String describe(WorkerControl order) {
    String verb = order.kind() == WorkerControl.Kind.CANCEL ? "cancelled" : "abandoned";
    String by = order.by() == null || order.by().isBlank() ? "" : " by " + order.by();
    String reason = order.reason() == null || order.reason().isBlank() ? "" : ": " + order.reason();
    return verb + by + reason;
  }

  private static String abbreviated(byte[] body) {
    String text = new String(body, StandardCharsets.UTF_8);
    return text.length() <= 200 ? text : text.substring(0, 200) + "...";
  }

  /** Applies orders on the connection's dispatch thread, and acks each, whatever it held. */
  private final class OrderConsumer extends DefaultConsumer {

    private final Channel on;

    OrderConsumer(Channel on) {
      super(on);
      this.on = on;
    }

    @Override
    public void handleDelivery(
        String tag, Envelope envelope, AMQP.BasicProperties properties, byte[] body) {
      try {
        apply(body);
      } finally {
        try {
          on.basicAck(envelope.getDeliveryTag(), false);
        } catch (IOException | RuntimeException e) {
          // the channel closed, and the auto-delete queue with it: the order was applied anyway
          log.debug("could not ack an order from {}: {}", queue, e.toString());
        }
      }
    }

    @Override
    public void handleCancel(String tag) {
      inbox.add(new Lost(on, "the broker cancelled it"));
    }

    @Override
    public void handleShutdownSignal(String tag, ShutdownSignalException signal) {
      inbox.add(new Lost(on, signal.getMessage()));
    }
  }
}
