package dev.shepherd.worker;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.DefaultConsumer;
import com.rabbitmq.client.Envelope;
import com.rabbitmq.client.ShutdownSignalException;
import dev.shepherd.messaging.InfrastructurePause;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.amqp.core.Binding;
import org.springframework.amqp.core.Message;
import org.springframework.amqp.core.MessageProperties;
import org.springframework.amqp.rabbit.connection.ConnectionFactory;
import org.springframework.amqp.rabbit.support.DefaultMessagePropertiesConverter;

/**
 * A worker's slots on its pool's queue: one thread and one channel each, and a consumer with a
 * prefetch of one (ADR 17).
 *
 * <p>A slot holds at most one delivery. Once the delivery's attempt is claimed the slot keeps it
 * unacked while the job runs, for at most the <em>ack hold</em>: with a prefetch of one, the
 * unacked delivery takes the consumer's only credit, so the broker sends the slot nothing else. A
 * job over within the hold is acked then, and the slot, still subscribed, is free at once. A job
 * still running when the hold passes has its consumer cancelled (the slot waits for the broker's
 * cancel-ok) and only then its delivery acked, so the ack frees no credit the broker could fill
 * while the job runs; the slot subscribes again once the job is over. So, per worker, deliveries
 * held but not claimed plus attempts running never exceed the slots: no delivery waits behind a
 * running job while another worker could take it, and no delivery is handed back to achieve that (a
 * quorum queue would count every return towards the delivery limit). And the ack of a long job
 * still comes within the hold, far below the broker's consumer timeout: the lease owns the job.
 *
 * <p>The channel of a slot is used by one thread at a time: the slot's own, except while a claimed
 * delivery is held, when the job runs on the slot's thread and the channel is left to whoever ends
 * the hold first under the slot's lock: the slot's thread when the job is over, the hold check when
 * the hold passes, or {@link #close()}, which acks what a busy slot still holds before its channel
 * closes.
 *
 * <p>A slot whose channel or connection closes, or whose consumer the broker cancels, subscribes
 * again on a new channel, backing off while the broker is away ({@link Resubscriber}). {@link
 * #stopConsuming()} makes every free slot cancel its consumer and hand back what it held; busy
 * slots finish their delivery, then stop.
 *
 * <p>A consumer the broker forgot without a word (RabbitMQ has lost quorum queue consumers across a
 * leader change: the channel open, the consumer subscribed on the client's side, none on the
 * queue's) would leave its slot idle for ever. So every {@link #FORGOTTEN_CHECK} a check looks at
 * the free slots that took nothing since the check before; when the queue held ready messages at
 * both checks, such a slot had the credit to take one all that time and was sent none: it is
 * treated as a lost consumer and subscribes again on a new channel.
 */
final class Slots {

  private static final Logger log = LoggerFactory.getLogger(Slots.class);

  /** How often a worker looks for slots the broker forgot (see the class comment). */
  static final Duration FORGOTTEN_CHECK = Duration.ofSeconds(5);

  /** The longest {@link #holdCheck}. */
  static final Duration MAX_HOLD_CHECK = Duration.ofMillis(100);

  /** How long a slot waits for the cancel-ok after the broker answered its basic.cancel. */
  private static final Duration CANCEL_OK_WAIT = Duration.ofSeconds(10);

  private static final DefaultMessagePropertiesConverter PROPERTIES =
      new DefaultMessagePropertiesConverter();

  /** One delivery a slot holds: exactly one of its three ends is taken. */
  interface Held {

    /** The delivery as Spring AMQP shapes it (body, headers, delivery tag). */
    Message message();

    /**
     * False once the delivery is no longer this slot's (its channel closed): the broker gives it to
     * a consumer again, so processing it here as well would process it twice.
     */
    boolean isHeld();

    /** Nothing to run (a duplicate, or an unreadable message now recorded): ack it. */
    void ack();

    /** Hands the delivery back to the queue unclaimed, for another consumer. */
    void giveBack();

    /**
     * The delivery's attempt is claimed: the slot holds it unacked while the callback runs the job,
     * and acks it when the callback returns; if the callback still runs when the ack hold passes,
     * the slot cancels its consumer, then acks, and subscribes again when the callback returns.
     * Either way the slot takes no other delivery until the callback returns. If the ack fails (the
     * channel closed) the claim still holds, so the job runs anyway: the broker's redelivery is
     * refused as a duplicate.
     */
    void claimed();
  }

  private final ConnectionFactory connectionFactory;
  private final String queue;
  private final List<Binding> bindings;
  private final Consumer<Held> work;
  private final InfrastructurePause.Backoff backoff;
  private final Duration ackHold;
  private final long holdCheckNanos;
  private final ScheduledThreadPoolExecutor holds;
  private final Duration forgottenCheck;
  private final ScheduledThreadPoolExecutor checks;
  private List<Slot> suspects = List.of(); // on the checks' thread only
  private long lastCheck; // System.nanoTime() of the check before; on the checks' thread only
  private final List<Slot> slots = new ArrayList<>();
  private final CountDownLatch finished;
  private final CompletableFuture<Void> bound = new CompletableFuture<>();
  private volatile boolean stopping;

  /**
   * @param threadName the slots' threads are named {@code threadName-1} to {@code -capacity}
   * @param ackHold how long a claimed delivery stays unacked while its job runs (positive)
   * @param work what a slot does with a delivery, on the slot's own thread; it ends the delivery
   *     through {@link Held}, and when it called {@link Held#claimed()} it runs the job before it
   *     returns
   * @param bindings bound again on every new channel before its slot subscribes (idempotent): the
   *     worker routes its types to its pool's queue itself (ADR 35), and where the queue is not
   *     there yet (the scheduler declares it, ADR 41) the slot retries until it is
   * @param forgottenCheck how often to look for slots the broker forgot ({@link #FORGOTTEN_CHECK})
   */
  Slots(
      ConnectionFactory connectionFactory,
      String queue,
      List<Binding> bindings,
      int capacity,
      String threadName,
      Duration ackHold,
      Consumer<Held> work,
      InfrastructurePause.Backoff backoff,
      Duration forgottenCheck) {
    if (ackHold == null || ackHold.isNegative() || ackHold.isZero()) {
      throw new IllegalArgumentException("ackHold must be positive, was " + ackHold);
    }
    if (forgottenCheck == null || forgottenCheck.isNegative() || forgottenCheck.isZero()) {
      throw new IllegalArgumentException("forgottenCheck must be positive, was " + forgottenCheck);
    }
    this.forgottenCheck = forgottenCheck;
    // its own thread: a check waits on the broker, which must not hold up the end of a hold
    this.checks =
        new ScheduledThreadPoolExecutor(
            1, r -> Thread.ofPlatform().name(threadName + "-check").daemon().unstarted(r));
    this.connectionFactory = connectionFactory;
    this.queue = queue;
    this.bindings = List.copyOf(bindings);
    this.work = work;
    this.backoff = backoff;
    this.ackHold = ackHold;
    this.holdCheckNanos = holdCheck(ackHold).toNanos();
    // one thread ends every slot's hold: each end is a cancel and an ack, milliseconds
    this.holds =
        new ScheduledThreadPoolExecutor(
            1, r -> Thread.ofPlatform().name(threadName + "-hold").daemon().unstarted(r));
    this.finished = new CountDownLatch(capacity);
    for (int i = 1; i <= capacity; i++) {
      slots.add(new Slot(threadName + "-" + i));
    }
  }

  /**
   * How often the slots' holds are checked: a tenth of the hold, at most {@link #MAX_HOLD_CHECK}
   * and at least a millisecond. A hold ends at the first check after it has lasted the hold less
   * one check, so it never lasts longer than the hold; one periodic check instead of a timer per
   * delivery, which woke the timer's thread for every job.
   */
  static Duration holdCheck(Duration ackHold) {
    return Timers.checkPeriod(ackHold, 10, MAX_HOLD_CHECK);
  }

  void start() {
    slots.forEach(s -> s.thread.start());
    holds.scheduleAtFixedRate(
        this::checkHolds, holdCheckNanos, holdCheckNanos, TimeUnit.NANOSECONDS);
    lastCheck = System.nanoTime();
    checks.scheduleWithFixedDelay(
        this::checkForForgottenConsumers,
        forgottenCheck.toNanos(),
        forgottenCheck.toNanos(),
        TimeUnit.NANOSECONDS);
  }

  /** On the hold thread: ends the hold of every claimed delivery held for the hold already. */
  private void checkHolds() {
    long now = System.nanoTime();
    for (Slot slot : slots) {
      slot.endHoldIfDue(now);
    }
  }

  /**
   * Subscribes again every free slot that took nothing since the check before, when the queue held
   * ready messages at that check and at this one (see the class comment).
   */
  private void checkForForgottenConsumers() {
    long now = System.nanoTime();
    long since = lastCheck;
    lastCheck = now;
    if (stopping) {
      return;
    }
    List<Slot> idle = slots.stream().filter(s -> s.idleSince(since)).toList();
    if (idle.isEmpty()) {
      suspects = List.of();
      return;
    }
    long ready;
    try (Channel on = connectionFactory.createConnection().createChannel(false)) {
      ready = on.queueDeclarePassive(queue).getMessageCount();
    } catch (Exception e) {
      // the broker is away or the queue is gone: the slots hear of that themselves
      suspects = List.of();
      return;
    }
    if (ready == 0) {
      suspects = List.of();
      return;
    }
    for (Slot slot : idle) {
      if (suspects.contains(slot)) {
        slot.forgotten(ready, Duration.ofNanos(now - since));
      }
    }
    suspects = idle;
  }

  /**
   * Completes once a slot has bound the pool's types to its queue (the queue exists and routes
   * them): a worker announces its types only then, so the scheduler publishes none of them before
   * the broker can route it, which would end the job DEAD as unroutable.
   */
  CompletableFuture<Void> bound() {
    return bound;
  }

  /** The channel slot {@code i} (from 0) consumes on now; null when it has none. For tests. */
  Channel channelOf(int i) {
    return slots.get(i).channel();
  }

  /** How many slots have a consumer on the queue right now. */
  int subscribed() {
    return (int) slots.stream().filter(s -> s.consumer != null).count();
  }

  /**
   * Stops taking deliveries at once: free slots cancel their consumers and hand back what they
   * hold; a slot running a job stops once it is over.
   */
  void stopConsuming() {
    stopping = true;
    slots.forEach(Slot::wake);
  }

  /** Waits up to {@code timeout} for every slot to stop; true when all did. */
  boolean awaitStopped(Duration timeout) {
    try {
      return finished.await(Math.max(1, timeout.toMillis()), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  /**
   * Closes every slot's channel, whatever it is doing; a claimed delivery a busy slot still holds
   * is acked first (its consumer cancelled before), not returned to the queue: the lease owns its
   * job.
   */
  void close() {
    stopping = true;
    slots.forEach(Slot::endHold);
    holds.shutdownNow();
    checks.shutdownNow();
    slots.forEach(Slot::closeChannel);
  }

  /** A delivery as it arrived on {@code channel}. */
  private record Incoming(Channel channel, long tag, Message message) {}

  private final class Slot extends Resubscriber {

    private final Thread thread;
    private volatile SlotConsumer consumer;
    private volatile HeldDelivery holding; // the delivery whose job runs now, if any

    /** System.nanoTime() of its last subscription or delivery. */
    private volatile long active = System.nanoTime();

    Slot(String name) {
      super(connectionFactory, backoff, "a slot on " + queue);
      this.thread = Thread.ofPlatform().name(name).unstarted(this);
    }

    @Override
    boolean stopping() {
      return stopping;
    }

    @Override
    boolean hasConsumer() {
      return consumer != null;
    }

    /**
     * The pool's bindings, then a prefetch of one: the claimed delivery held unacked takes the
     * consumer's only credit.
     */
    @Override
    void prepare(Channel on) throws IOException {
      for (Binding binding : bindings) {
        on.queueBind(binding.getDestination(), binding.getExchange(), binding.getRoutingKey());
      }
      bound.complete(null);
      on.basicQos(1);
    }

    @Override
    void consume(Channel on) throws IOException {
      var subscribing = new SlotConsumer(on);
      // the tag as the broker's consume-ok gave it: the consumer learns it only later, on the
      // connection's dispatch thread
      subscribing.subscribedAs = on.basicConsume(queue, false, subscribing);
      active = System.nanoTime();
      consumer = subscribing;
    }

    /**
     * Subscribed, holding nothing, and neither subscribed nor sent a delivery since {@code since}:
     * free all that time, with the credit to take a delivery.
     */
    boolean idleSince(long since) {
      return consumer != null && holding == null && inbox.isEmpty() && active - since < 0;
    }

    /**
     * The broker sent this free slot nothing while the queue held ready messages: subscribe again.
     */
    void forgotten(long ready, Duration checked) {
      SlotConsumer current = consumer;
      if (current != null) {
        lost(
            current.channel,
            "free, and sent nothing for over "
                + checked.toMillis()
                + " ms while "
                + queue
                + " held ready messages ("
                + ready
                + " now): the broker forgot the consumer");
      }
    }

    @Override
    void take(Object item) {
      if (item instanceof Incoming in) {
        take(in);
      }
    }

    @Override
    void forgetConsumer() {
      consumer = null;
    }

    @Override
    void ending() {
      unsubscribe();
    }

    @Override
    void ended() {
      finished.countDown();
    }

    private void take(Incoming in) {
      if (in.channel() != channel() || !in.channel().isOpen()) {
        return; // its channel closed: the broker has it back already
      }
      var held = new HeldDelivery(in);
      if (stopping) {
        held.giveBack();
        return;
      }
      holding = held;
      try {
        work.accept(held);
      } catch (RuntimeException e) {
        log.error("processing a delivery from {} failed", queue, e);
        if (!held.ended) {
          held.giveBack(); // towards the delivery limit, as any bug's delivery
        }
      } finally {
        // an interrupt meant for a cancelled handler must reach neither the hold's end (it may
        // wait for a cancel-ok) nor the next delivery
        Thread.interrupted();
        held.endHold();
        holding = null;
      }
    }

    /** Ends the hold of the claimed delivery this slot holds, if the hold has passed. */
    private void endHoldIfDue(long now) {
      HeldDelivery held = holding;
      if (held != null) {
        held.holdPassedIfDue(now);
      }
    }

    /** Acks the claimed delivery this slot still holds, if any (see {@link Slots#close()}). */
    private void endHold() {
      HeldDelivery held = holding;
      if (held != null) {
        held.endHold();
      }
    }

    /** Cancels the consumer and waits for its cancel-ok, after which nothing more arrives. */
    private void unsubscribe() {
      SlotConsumer current = consumer;
      consumer = null;
      if (current == null) {
        return;
      }
      try {
        current.channel.basicCancel(current.subscribedAs);
        if (!current.cancelled.await(CANCEL_OK_WAIT.toMillis(), TimeUnit.MILLISECONDS)) {
          throw new IOException("no cancel-ok within " + CANCEL_OK_WAIT);
        }
      } catch (IOException | RuntimeException | InterruptedException e) {
        // closing the channel ends the consumer for certain (and returns what it held)
        log.warn(
            "a slot could not cancel its consumer on {}; closing its channel: {}",
            queue,
            e.toString());
        closeChannel();
      }
      handBackAll();
    }

    /** Hands back whatever arrived unclaimed (nothing, with a prefetch of one and one unacked). */
    private void handBackAll() {
      for (Object o; (o = inbox.poll()) != null; ) {
        if (o instanceof Incoming in && in.channel() == channel() && in.channel().isOpen()) {
          new HeldDelivery(in).giveBack();
        }
      }
    }

    /** The consumer of one subscription: hands deliveries to the slot's thread. */
    private final class SlotConsumer extends DefaultConsumer {

      private final Channel channel;
      private final CountDownLatch cancelled = new CountDownLatch(1);
      private volatile String subscribedAs;

      SlotConsumer(Channel channel) {
        super(channel);
        this.channel = channel;
      }

      @Override
      public void handleDelivery(
          String tag, Envelope envelope, AMQP.BasicProperties properties, byte[] body) {
        active = System.nanoTime();
        MessageProperties props =
            PROPERTIES.toMessageProperties(properties, envelope, StandardCharsets.UTF_8.name());
        props.setConsumerQueue(queue);
        props.setConsumerTag(tag);
        inbox.add(new Incoming(channel, envelope.getDeliveryTag(), new Message(body, props)));
      }

      @Override
      public void handleCancelOk(String tag) {
        cancelled.countDown();
      }

      @Override
      public void handleCancel(String tag) {
        cancelled.countDown();
        lost(channel, "the broker cancelled it");
      }

      @Override
      public void handleShutdownSignal(String tag, ShutdownSignalException signal) {
        cancelled.countDown();
        lost(channel, signal.getMessage());
      }
    }

    /** A delivery held by this slot. */
    private final class HeldDelivery implements Held {

      private final Incoming in;
      private boolean ended;

      /** Claimed and not acked yet; guarded by the slot's lock, as the channel is meanwhile. */
      private boolean held;

      private long heldSince; // System.nanoTime() of the claim; guarded by the slot's lock

      HeldDelivery(Incoming in) {
        this.in = in;
      }

      @Override
      public Message message() {
        return in.message();
      }

      @Override
      public boolean isHeld() {
        return in.channel().isOpen();
      }

      @Override
      public void ack() {
        end(() -> in.channel().basicAck(in.tag(), false), "ack");
      }

      @Override
      public void giveBack() {
        end(() -> in.channel().basicNack(in.tag(), false, true), "give back");
      }

      @Override
      public void claimed() {
        // No other delivery can come while this one is unacked: the prefetch is one.
        synchronized (Slot.this) {
          ended = true;
          held = true;
          heldSince = System.nanoTime();
          if (holds.isShutdown()) {
            holdPassedIfDue(heldSince + ackHold.toNanos()); // closing: what the check would do
          }
        }
      }

      /**
       * On the hold thread (the job runs on the slot's), at {@code now}: once the hold has lasted
       * the hold less one check, cancel the consumer and wait for its cancel-ok, after which
       * nothing can arrive, then ack; the ack frees no credit.
       */
      private void holdPassedIfDue(long now) {
        synchronized (Slot.this) {
          if (!held || now - heldSince < ackHold.toNanos() - holdCheckNanos) {
            return; // the job was over first, or the hold has not passed yet
          }
          held = false;
          unsubscribe();
          ackClaimed("past the ack hold");
        }
      }

      /**
       * The job is over (on the slot's thread), or the slots close: ack if the hold has not passed
       * yet. The consumer stays, so the next delivery comes at once, unless the slots stop: then it
       * is cancelled first, so nothing comes that would have to be handed back.
       */
      void endHold() {
        synchronized (Slot.this) {
          if (!held) {
            return;
          }
          held = false;
          if (stopping) {
            unsubscribe();
          }
          ackClaimed("within the ack hold");
        }
      }

      private void ackClaimed(String when) {
        if (!in.channel().isOpen()) {
          // the broker has put it back; the lease owns the job, so the next claim is refused
          log.warn(
              "the channel of claimed delivery {} from {} closed before its ack ({}); the queue"
                  + " delivers it again and the claim refuses it as a duplicate",
              in.tag(),
              queue,
              when);
          return;
        }
        try {
          in.channel().basicAck(in.tag(), false);
        } catch (IOException | RuntimeException e) {
          log.warn(
              "could not ack claimed delivery {} from {} ({}); the lease owns the job: {}",
              in.tag(),
              queue,
              when,
              e.toString());
        }
      }

      private void end(ChannelCall call, String what) {
        ended = true;
        if (!in.channel().isOpen()) {
          return; // the broker has it back already
        }
        try {
          call.run();
        } catch (IOException | RuntimeException e) {
          log.warn("could not {} delivery {} from {}: {}", what, in.tag(), queue, e.toString());
        }
      }
    }
  }

  @FunctionalInterface
  private interface ChannelCall {
    void run() throws IOException;
  }
}
