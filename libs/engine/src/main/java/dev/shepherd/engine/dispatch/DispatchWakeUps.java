package dev.shepherd.engine.dispatch;

import dev.shepherd.store.Outbox;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.function.Consumer;
import java.util.stream.IntStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.data.redis.connection.RedisConnectionFactory;
import org.springframework.data.redis.listener.ChannelTopic;
import org.springframework.data.redis.listener.RedisMessageListenerContainer;
import org.springframework.data.redis.listener.Topic;

/**
 * Tells the dispatcher at once of a job a script made due now that no dispatcher was told of: an
 * ordering key's next job when the one before it finished, a concurrency key's freed slot going to
 * the oldest waiting job (ADR 29, 30). The status-tracker and the recovery service apply those
 * ends, not the scheduler, so without this the job waits for the dispatcher's next sweep of every
 * partition (its idle poll, 500 ms by default), and a key of jobs that each take a few milliseconds
 * would run about two a second. The scripts publish the job's id on their partition's channel
 * ({@link Outbox#wakeChannel}); a message lost while the subscription reconnects costs only that
 * wait, since the sweep still finds the job.
 */
public final class DispatchWakeUps implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(DispatchWakeUps.class);

  private final RedisMessageListenerContainer container = new RedisMessageListenerContainer();
  private volatile boolean closed;
  private Thread subscriber;

  /**
   * @param wake told each job id, on the subscription's thread: mark its partition and wake the
   *     dispatch loop
   */
  public DispatchWakeUps(RedisConnectionFactory connections, Outbox outbox, Consumer<String> wake) {
    container.setConnectionFactory(connections);
    List<Topic> channels =
        IntStream.range(0, outbox.partitions())
            .mapToObj(p -> (Topic) new ChannelTopic(outbox.wakeChannel(p)))
            .toList();
    container.addMessageListener(
        (message, pattern) -> wake.accept(new String(message.getBody(), StandardCharsets.UTF_8)),
        channels);
  }

  /**
   * Subscribes in the background: the scheduler starts, alive and not ready, while Redis is away
   * (its health probes say so), and the subscription comes once Redis answers; the container then
   * renews it by itself after a lost connection.
   */
  public void start() {
    container.afterPropertiesSet();
    subscriber = Thread.ofVirtual().name("shepherd-dispatch-wake-ups").start(this::subscribe);
  }

  /** Whether the subscription is in place: until it is, wake-ups are missed (the sweep remains). */
  public boolean isSubscribed() {
    return container.isListening();
  }

  private void subscribe() {
    long backoffMillis = 500;
    boolean warned = false;
    while (!closed) {
      try {
        container.start();
        if (warned) {
          log.info("dispatch wake-ups subscribed");
        }
        return;
      } catch (RuntimeException e) {
        if (!warned) {
          log.warn(
              "cannot subscribe to dispatch wake-ups yet ({}); keyed jobs wait for the dispatcher's"
                  + " sweep meanwhile, trying again",
              e.toString());
          warned = true;
        }
        try {
          Thread.sleep(backoffMillis);
        } catch (InterruptedException interrupted) {
          return;
        }
        backoffMillis = Math.min(backoffMillis * 2, 10_000);
      }
    }
  }

  @Override
  public void close() {
    closed = true;
    if (subscriber != null) {
      subscriber.interrupt();
    }
    container.stop();
    try {
      container.destroy();
    } catch (Exception e) {
      // stopping anyway: nothing waits on the subscription any more
      log.warn("closing the dispatch wake-up subscription: {}", e.toString());
    }
  }
}
