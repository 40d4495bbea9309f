package dev.shepherd.engine;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.data.redis.connection.RedisConnectionFactory;
import org.springframework.data.redis.listener.ChannelTopic;
import org.springframework.data.redis.listener.RedisMessageListenerContainer;
import org.springframework.data.redis.listener.Topic;

/**
 * What the store's scripts announce with {@code PUBLISH}, heard on one Redis subscription: a job id
 * per message, on one channel per partition. The scheduler listens for jobs made due now where no
 * dispatcher was told (an ordering key's next job, a concurrency key's freed slot, ADR 29 and 30),
 * which the dispatcher publishes at once instead of at its next sweep, and for awaited jobs that
 * finished, which it pushes to the clients waiting for them. The status-tracker and recovery apply
 * those ends, not the scheduler, so without this it would learn of them only by polling. A message
 * lost while the subscription reconnects costs only that wait: the dispatcher's sweep still finds
 * the job, and a waiting client reads the job again when its stream ends.
 */
public final class ScriptSignals implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(ScriptSignals.class);

  private final RedisMessageListenerContainer container = new RedisMessageListenerContainer();
  private volatile boolean closed;
  private Thread subscriber;

  public ScriptSignals(RedisConnectionFactory connections) {
    container.setConnectionFactory(connections);
  }

  /**
   * Tells {@code listener} each job id published on these channels, on the subscription's thread
   * (keep it short). Call before {@link #start}.
   */
  public ScriptSignals on(List<String> channels, Consumer<String> listener) {
    List<Topic> topics = channels.stream().map(c -> (Topic) new ChannelTopic(c)).toList();
    container.addMessageListener(
        (message, pattern) ->
            listener.accept(new String(message.getBody(), StandardCharsets.UTF_8)),
        topics);
    return this;
  }

  /**
   * Subscribes in the background: the scheduler starts, alive and not ready, while Redis is away
   * (its health probes say so), and the subscription comes once Redis answers; the container then
   * renews it by itself after a lost connection.
   */
  public void start() {
    container.afterPropertiesSet();
    subscriber = Thread.ofVirtual().name("shepherd-script-signals").start(this::subscribe);
  }

  /** Whether the subscription is in place: until it is, signals are missed. */
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
          log.info("subscribed to the scripts' signals");
        }
        return;
      } catch (RuntimeException e) {
        if (!warned) {
          log.warn(
              "cannot subscribe to the scripts' signals yet ({}); keyed jobs wait for the"
                  + " dispatcher's sweep and clients' awaits for their stream's end meanwhile,"
                  + " trying again",
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
      log.warn("closing the scripts' signals subscription: {}", e.toString());
    }
  }
}
