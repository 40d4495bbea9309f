package dev.shepherd.worker;

import com.rabbitmq.client.Channel;
import dev.shepherd.messaging.InfrastructurePause;
import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.amqp.rabbit.connection.ChannelProxy;
import org.springframework.amqp.rabbit.connection.ConnectionFactory;
import org.springframework.amqp.rabbit.connection.RabbitUtils;

/**
 * The life of one consumer thread on one queue, shared by a worker's {@link Slots} and its {@link
 * ControlOrders}: subscribe on a channel of its own, take what the consumer puts in its inbox, and
 * when the channel closes or the broker cancels the consumer, close the channel and subscribe again
 * on a new one, backing off ({@link WorkerSettings#errorBackoff()} doubling to {@link
 * WorkerSettings#errorMaxBackoff()}) while the broker is away. A failed subscription is logged once
 * per outage, and the first success after it at INFO.
 *
 * <p>A subclass opens nothing itself: it says how to prepare a new channel, how to subscribe on it,
 * and what to do with each item of the inbox; its consumer reports a lost channel or cancellation
 * with {@link #lost}. The channel is the underlying one, never reopened behind the thread's back,
 * and closed physically (a cached channel would keep its consumer). Its close holds the object's
 * lock, which a subclass may use to guard the channel.
 */
abstract class Resubscriber implements Runnable {

  private static final Logger log = LoggerFactory.getLogger(Resubscriber.class);

  /** What wakes the thread besides a delivery: a stop, or a subclass's own reason. */
  enum Signal {
    WAKE
  }

  /** The consumer of {@code channel} is gone: the channel closed or the broker cancelled it. */
  record Lost(Channel channel, String why) {}

  /** What the thread takes from; a consumer puts its deliveries and {@link Lost} here. */
  final BlockingQueue<Object> inbox = new LinkedBlockingQueue<>();

  private final ConnectionFactory connectionFactory;
  private final InfrastructurePause.Backoff backoff;
  private final String who;
  private volatile Channel proxy; // what the connection factory handed out; closed physically
  private volatile Channel channel; // its target: never reopened behind our back
  private int failures; // on the thread only

  /**
   * @param who what the log lines call this consumer, e.g. "a slot on shepherd.work.default", at
   *     the start of each
   */
  Resubscriber(
      ConnectionFactory connectionFactory, InfrastructurePause.Backoff backoff, String who) {
    this.connectionFactory = connectionFactory;
    this.backoff = backoff;
    this.who = who;
  }

  /** True once the thread should end. */
  abstract boolean stopping();

  /** True while a consumer is subscribed; false sends the thread to subscribe. */
  abstract boolean hasConsumer();

  /** Sets up a channel just opened (its prefetch; what it declares). */
  abstract void prepare(Channel on) throws IOException;

  /** Subscribes a new consumer on {@code on}, open and prepared. */
  abstract void consume(Channel on) throws IOException;

  /** Takes one item of the inbox that is neither a wake-up nor news of a lost consumer. */
  abstract void take(Object item);

  /** The consumer is gone, the channel about to close: forget the consumer. */
  abstract void forgetConsumer();

  /** The thread ends: what must happen before its channel closes. Nothing by default. */
  void ending() {}

  /** The thread ended and its channel is closed. Nothing by default. */
  void ended() {}

  @Override
  public final void run() {
    try {
      while (!stopping()) {
        if (!hasConsumer() && !subscribe()) {
          continue;
        }
        switch (next()) {
          case Lost lost when lost.channel() == channel -> {
            log.warn("{}: the consumer is gone ({}); subscribing again", who, lost.why());
            forgetConsumer();
            closeChannel();
            pause(backoff.before(++failures));
          }
          case Lost lost -> {} // news of a channel closed already
          case Signal signal -> {}
          case Object item -> take(item);
        }
      }
    } finally {
      ending();
      closeChannel();
      ended();
    }
  }

  /** Tells the thread, from the consumer's, that the consumer of {@code on} is gone. */
  final void lost(Channel on, String why) {
    inbox.add(new Lost(on, why));
  }

  /** Wakes the thread, so it sees {@link #stopping()}. */
  final void wake() {
    inbox.add(Signal.WAKE);
  }

  /** The channel now; null when none is open. */
  final Channel channel() {
    return channel;
  }

  /** Subscribes, on a new channel if the last one closed. */
  private boolean subscribe() {
    try {
      if (channel == null || !channel.isOpen()) {
        closeChannel();
        proxy = connectionFactory.createConnection().createChannel(false);
        channel = proxy instanceof ChannelProxy p ? p.getTargetChannel() : proxy;
        prepare(channel);
      }
      consume(channel);
      if (failures > 0) {
        log.info("{}: consuming again", who);
        failures = 0;
      } else {
        log.debug("{}: consuming", who);
      }
      return true;
    } catch (IOException | RuntimeException e) {
      if (failures == 0) {
        log.warn("{}: could not subscribe; retrying: {}", who, e.toString());
      }
      closeChannel();
      pause(backoff.before(++failures));
      return false;
    }
  }

  private Object next() {
    try {
      return inbox.take();
    } catch (InterruptedException e) {
      return Signal.WAKE; // stopped through stopping(), not by interrupts
    }
  }

  /** Waits, unless stopped or woken first. */
  private void pause(Duration wait) {
    try {
      long until = System.nanoTime() + wait.toNanos();
      for (long left = wait.toNanos(); left > 0 && !stopping(); left = until - System.nanoTime()) {
        if (inbox.poll(left, TimeUnit.NANOSECONDS) == Signal.WAKE) {
          return;
        }
      }
    } catch (InterruptedException e) {
      // ends the wait; not kept, or every later wait would end at once (see next())
    }
  }

  /** Closes the channel physically (which ends its consumer, and returns what it held). */
  final synchronized void closeChannel() {
    Channel closing = proxy;
    proxy = null;
    channel = null;
    if (closing != null) {
      // a physical close: a cached channel would keep its consumer, or reopen by itself
      RabbitUtils.setPhysicalCloseRequired(closing, true);
      RabbitUtils.closeChannel(closing);
    }
  }
}
