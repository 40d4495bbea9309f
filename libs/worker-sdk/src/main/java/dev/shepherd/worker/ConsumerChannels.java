package dev.shepherd.worker;

import com.rabbitmq.client.Channel;
import java.io.IOException;
import org.springframework.amqp.rabbit.connection.ChannelProxy;
import org.springframework.amqp.rabbit.connection.ConnectionFactory;
import org.springframework.amqp.rabbit.connection.RabbitUtils;

/**
 * Where a {@link Resubscriber}'s thread gets the channel it subscribes on. A channel handed out is
 * the connection factory's underlying one, never reopened behind the thread's back, and closed
 * physically (a cached channel would keep its consumers).
 *
 * <p>{@link #own} gives each thread a channel of its own. {@link #shared} gives every thread the
 * same channel until it closes: a worker's slots consume on one channel, each slot's consumer with
 * its own prefetch of one, because each channel costs the broker a process and a wake-up per
 * delivery, a quarter of a work message's cost at a trickle (ADR 61).
 */
abstract sealed class ConsumerChannels {

  /** Sets up a channel just opened (its prefetch; what it declares). */
  @FunctionalInterface
  interface Setup {
    void prepare(Channel on) throws IOException;
  }

  final ConnectionFactory connectionFactory;

  private ConsumerChannels(ConnectionFactory connectionFactory) {
    this.connectionFactory = connectionFactory;
  }

  /** A new channel for each thread, closed when the thread is done with it. */
  static ConsumerChannels own(ConnectionFactory connectionFactory) {
    return new Own(connectionFactory);
  }

  /** One channel for every thread that asks, replaced once it closes or one of them discards it. */
  static Shared shared(ConnectionFactory connectionFactory) {
    return new Shared(connectionFactory);
  }

  /** An open channel to subscribe on, set up with {@code setup} when it is new. */
  abstract Channel open(Setup setup) throws IOException;

  /**
   * {@code on} failed its consumer (closed, its consumer cancelled or forgotten by the broker, or a
   * subscription on it failed): close it, so that the next {@link #open} gives a new one. Nothing
   * when it is not the channel handed out now.
   */
  abstract void discard(Channel on);

  /** The thread ends and is done with {@code on}. */
  abstract void leave(Channel on);

  /** A channel the factory opened, with what must be closed to close it physically. */
  private record Opened(Channel proxy, Channel target) {

    static Opened open(ConnectionFactory connectionFactory, Setup setup) throws IOException {
      Channel proxy = connectionFactory.createConnection().createChannel(false);
      var opened =
          new Opened(proxy, proxy instanceof ChannelProxy p ? p.getTargetChannel() : proxy);
      try {
        setup.prepare(opened.target());
      } catch (IOException | RuntimeException e) {
        opened.close();
        throw e;
      }
      return opened;
    }

    void close() {
      // a physical close: a cached channel would keep its consumer, or reopen by itself
      RabbitUtils.setPhysicalCloseRequired(proxy, true);
      RabbitUtils.closeChannel(proxy);
    }
  }

  /** One thread's channels: each {@link #open} opens a new one. */
  private static final class Own extends ConsumerChannels {

    private Opened current;

    Own(ConnectionFactory connectionFactory) {
      super(connectionFactory);
    }

    @Override
    synchronized Channel open(Setup setup) throws IOException {
      discard(current == null ? null : current.target());
      current = Opened.open(connectionFactory, setup);
      return current.target();
    }

    @Override
    synchronized void discard(Channel on) {
      if (current != null && current.target() == on) {
        current.close();
        current = null;
      }
    }

    @Override
    void leave(Channel on) {
      discard(on);
    }
  }

  /** The channel every slot of a worker consumes on. */
  static final class Shared extends ConsumerChannels {

    private Opened current;

    private Shared(ConnectionFactory connectionFactory) {
      super(connectionFactory);
    }

    @Override
    synchronized Channel open(Setup setup) throws IOException {
      if (current != null && current.target().isOpen()) {
        return current.target();
      }
      if (current != null) {
        current.close();
      }
      current = null;
      current = Opened.open(connectionFactory, setup);
      return current.target();
    }

    @Override
    synchronized void discard(Channel on) {
      if (current != null && current.target() == on) {
        current.close();
        current = null;
      }
    }

    /** Others still consume on it; {@link #close()} closes it once every thread is done. */
    @Override
    void leave(Channel on) {}

    /** Closes the channel, whoever still consumes on it. */
    synchronized void close() {
      if (current != null) {
        current.close();
        current = null;
      }
    }
  }
}
