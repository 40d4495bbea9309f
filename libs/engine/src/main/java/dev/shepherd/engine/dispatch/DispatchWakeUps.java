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

  public void start() {
    container.afterPropertiesSet();
    container.start();
  }

  @Override
  public void close() {
    container.stop();
    try {
      container.destroy();
    } catch (Exception e) {
      // stopping anyway: nothing waits on the subscription any more
      log.warn("closing the dispatch wake-up subscription: {}", e.toString());
    }
  }
}
