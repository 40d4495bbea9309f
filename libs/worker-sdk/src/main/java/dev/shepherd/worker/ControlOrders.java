package dev.shepherd.worker;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.DefaultConsumer;
import com.rabbitmq.client.Envelope;
import com.rabbitmq.client.ShutdownSignalException;
import dev.shepherd.messaging.InfrastructurePause;
import dev.shepherd.messaging.Topology;
import dev.shepherd.model.Json;
import dev.shepherd.model.WorkerControl;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Collection;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;
import org.springframework.amqp.core.Binding;
import org.springframework.amqp.core.Declarable;
import org.springframework.amqp.core.Declarables;
import org.springframework.amqp.core.Queue;
import org.springframework.amqp.rabbit.connection.ConnectionFactory;

/**
 * A worker's orders from the control exchange ({@link WorkerControl}): its own classic,
 * non-durable, auto-delete queue {@link Topology#workerControlQueue}, bound with {@link
 * Topology#workerControlRoutingKey}, consumed with manual acks on one channel of its own.
 *
 * <p>An order names an attempt by job id and fencing token. One for an attempt this worker runs is
 * applied through {@link CancelGrace}: CANCEL gracefully, ABANDON at once; NOTIFY hands the events
 * the attempt's backend reported to the attempt's mailbox in {@link RemoteReports} (ADR 45). One
 * for an attempt it does not run (finished, or another attempt of the job) is acked and ignored; so
 * is one that cannot be read, which is logged and counted. The consumer never stops for a bad
 * message: the job record changed before the order was sent, and the attempt's next lease renewal
 * would stop it anyway, so an order is only a shortcut and never worth a redelivery.
 *
 * <p>The queue and its binding are declared each time the consumer subscribes: an auto-delete queue
 * is gone once its consumer is (the connection dropped, the broker restarted). A consumer that
 * loses its channel, or that the broker cancels, subscribes again on a new channel, backing off
 * while the broker is away, as {@link Slots} do ({@link Resubscriber}). Orders published while no
 * queue exists are dropped by the broker; the lease renewal covers them.
 */
final class ControlOrders extends Resubscriber implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(ControlOrders.class);

  /** Orders are a few bytes and applied in microseconds; this only bounds a burst. */
  private static final int PREFETCH = 50;

  private static final Duration CLOSE_WAIT = Duration.ofSeconds(5);

  private final Declarables declarables;
  private final String queue;
  private final Collection<Attempt<?>> running;
  private final RemoteReports remoteReports;
  private final CancelGrace cancelGrace;
  private final WorkerMeters meters;
  private final Thread thread;
  private volatile boolean closed;

  /**
   * @param running the attempts this worker runs now; an order applies to one of them or to none
   * @param remoteReports the mailboxes of the attempts that run on a backend, for NOTIFY orders
   */
  ControlOrders(
      ConnectionFactory connectionFactory,
      Topology topology,
      String workerId,
      Collection<Attempt<?>> running,
      RemoteReports remoteReports,
      CancelGrace cancelGrace,
      WorkerMeters meters,
      InfrastructurePause.Backoff backoff) {
    super(connectionFactory, backoff, "control queue " + topology.workerControlQueue(workerId));
    this.declarables = topology.workerControlDeclarables(workerId);
    this.queue = topology.workerControlQueue(workerId);
    this.running = running;
    this.remoteReports = remoteReports;
    this.cancelGrace = cancelGrace;
    this.meters = meters;
    this.thread = Thread.ofPlatform().name("shepherd-control").daemon().unstarted(this);
  }

  /** Declares the queue and starts consuming, on a thread of its own. */
  void start() {
    thread.start();
  }

  /** True while a consumer is subscribed (for tests and health). */
  boolean isSubscribed() {
    Channel c = channel();
    return c != null && c.isOpen();
  }

  /** Stops consuming; the queue goes with its consumer. */
  @Override
  public void close() {
    closed = true;
    wake();
    try {
      thread.join(CLOSE_WAIT);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  @Override
  boolean stopping() {
    return closed;
  }

  /** The channel is the consumer's: a new one each time, after the old one was closed. */
  @Override
  boolean hasConsumer() {
    return channel() != null;
  }

  /** Declares the queue and its binding (an auto-delete queue is gone with its last consumer). */
  @Override
  void prepare(Channel on) throws IOException {
    for (Declarable d : declarables.getDeclarables()) {
      switch (d) {
        case Queue q ->
            on.queueDeclare(
                q.getName(), q.isDurable(), q.isExclusive(), q.isAutoDelete(), q.getArguments());
        case Binding b -> on.queueBind(b.getDestination(), b.getExchange(), b.getRoutingKey());
        default -> throw new IllegalStateException("a worker does not declare " + d);
      }
    }
    on.basicQos(PREFETCH);
  }

  @Override
  void consume(Channel on) throws IOException {
    on.basicConsume(queue, false, new OrderConsumer(on));
  }

  /** Nothing but wake-ups and lost consumers comes here: orders are applied as they arrive. */
  @Override
  void take(Object item) {}

  @Override
  void forgetConsumer() {}

  // ---- one order -------------------------------------------------------------------------------

  /** Applies one order's body; never throws. */
  private void apply(byte[] body) {
    meters.orderConsumed();
    WorkerControl order;
    try {
      order = Json.mapper().readValue(body, WorkerControl.class);
      if (order.kind() == null || order.jobId() == null) {
        throw new IllegalArgumentException("an order needs a kind and a job id");
      }
    } catch (RuntimeException e) {
      meters.orderUnreadable();
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
    if (order.kind() == WorkerControl.Kind.NOTIFY) {
      notify(order, target);
      return;
    }
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
        case CANCEL -> cancelGrace.cancel(attempt, describe(order));
        case ABANDON -> cancelGrace.abandon(attempt, describe(order));
        case NOTIFY -> throw new IllegalStateException("NOTIFY is delivered above");
      }
    } finally {
      MDC.clear();
    }
  }

  /**
   * Hands a backend's events to the attempt's mailbox. The mailbox, not the running attempt, says
   * whether the worker takes them: it is open from before the backend was asked to run the task.
   */
  private void notify(WorkerControl order, Optional<Attempt<?>> target) {
    target.ifPresent(a -> MDC.setContextMap(a.claim().mdc()));
    try {
      int events = order.events() == null ? 0 : order.events().size();
      if (!remoteReports.deliver(order.jobId(), order.fencingToken(), order.events())) {
        log.debug(
            "ignoring NOTIFY of job {} token {} ({} events): this worker does not run that attempt"
                + " on a backend (finished, or another attempt)",
            order.jobId(),
            order.fencingToken(),
            events);
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
      lost(on, "the broker cancelled it");
    }

    @Override
    public void handleShutdownSignal(String tag, ShutdownSignalException signal) {
      lost(on, signal.getMessage());
    }
  }
}
