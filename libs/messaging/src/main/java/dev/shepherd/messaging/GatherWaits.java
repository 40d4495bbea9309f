package dev.shepherd.messaging;

import java.time.Duration;
import java.util.HashSet;
import java.util.Set;
import java.util.function.LongConsumer;
import org.springframework.amqp.core.Message;
import org.springframework.amqp.core.MessagePostProcessor;

/**
 * How long a batch consumer's next poll waits (ADR 53). Spring's container polls with one receive
 * timeout, both while it waits for a batch's first delivery and while it gathers the rest; a short
 * one (the batch's {@code maxWait}) woke an idle consumer that often, 500 times a second for 2 ms,
 * which cost an idle scheduler or status-tracker 0.6 to 0.8 % of a core per consumer (the steady
 * window of a 20,000-job run spent half the scheduler's CPU polling its idle submit queue). So the
 * timeout is switched: {@link #IDLE_POLL} while no consumer of the container gathers, {@code
 * maxWait} from a consumer's first delivery of a batch (this post-processor runs for each delivery
 * the container takes) until its batch was processed ({@link #batchEnded()}). A delivery that
 * arrives after an idle poll has begun is processed at once, the batch's own time having passed.
 *
 * <p>The container holds the one timeout for all its consumers: it goes back to {@link #IDLE_POLL}
 * only once none of them is gathering (the gathering consumers' threads, under this object's lock,
 * so a consumer that is gathering never polls with the long wait). A gather cut short by a lost
 * channel ends its consumer's thread without an end of batch; that thread is forgotten at the next
 * batch's end, and until then the container polls with {@code maxWait}, as it always did before.
 */
final class GatherWaits implements MessagePostProcessor {

  /**
   * An idle consumer's poll: short enough that stopping the container (which waits for the poll to
   * end) stays quick, long enough that idle polling costs nothing measurable.
   */
  static final Duration IDLE_POLL = Duration.ofMillis(200);

  private final LongConsumer receiveTimeout;
  private final long gatherMillis;
  private final long idleMillis;
  private final Set<Thread> gathering = new HashSet<>(); // guarded by this

  /**
   * @param receiveTimeout sets the container's receive timeout, in milliseconds
   * @param gather how long a gathering consumer waits for one more delivery
   */
  GatherWaits(LongConsumer receiveTimeout, Duration gather) {
    this(receiveTimeout, gather, IDLE_POLL);
  }

  GatherWaits(LongConsumer receiveTimeout, Duration gather, Duration idle) {
    this.receiveTimeout = receiveTimeout;
    this.gatherMillis = Math.max(1, gather.toMillis());
    this.idleMillis = Math.max(gatherMillis, idle.toMillis());
    receiveTimeout.accept(idleMillis);
  }

  /** Called on the consumer's thread for each delivery taken: the first one starts a gather. */
  @Override
  public Message postProcessMessage(Message message) {
    synchronized (this) {
      if (gathering.add(Thread.currentThread()) && gathering.size() == 1) {
        receiveTimeout.accept(gatherMillis);
      }
    }
    return message;
  }

  /** Called on the consumer's thread once its batch was processed (or failed). */
  void batchEnded() {
    synchronized (this) {
      if (gathering.remove(Thread.currentThread())) {
        gathering.removeIf(thread -> !thread.isAlive()); // ended mid-gather
        if (gathering.isEmpty()) {
          receiveTimeout.accept(idleMillis);
        }
      }
    }
  }
}
