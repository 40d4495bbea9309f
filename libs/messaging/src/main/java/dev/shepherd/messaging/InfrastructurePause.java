package dev.shepherd.messaging;

import dev.shepherd.model.MetricNames;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * How the consumers of one queue live through an outage of Redis or the broker: the consumer that
 * met an {@link FailureKind#INFRASTRUCTURE infrastructure} failure keeps its delivery unacked and
 * runs the same processing again, after a capped exponential backoff, until it succeeds. It takes
 * no other delivery meanwhile (what the broker prefetched for it waits), and the message's delivery
 * limit is not spent: a quorum queue counts a message each time it is handed back, and five
 * hand-backs take milliseconds, so requeueing would dead-letter good messages during any outage.
 * See ADR 0013.
 *
 * <p>One instance serves every consumer of a queue, so an outage is logged once: at WARN when the
 * first consumer pauses and at INFO when the last one resumes. The gauge {@link
 * MetricNames#CONSUMERS_PAUSED} counts the consumers waiting now, the counter {@link
 * MetricNames#INFRASTRUCTURE_RETRIES} every retry.
 */
public final class InfrastructurePause {

  private static final Logger log = LoggerFactory.getLogger(InfrastructurePause.class);

  /** The longest single sleep, so that a stopping consumer notices within this long. */
  private static final Duration STOP_CHECK = Duration.ofMillis(100);

  private final String queue;
  private final Backoff backoff;
  private final BooleanSupplier stopping;
  private final Clock clock;
  private final Counter retries;
  private final AtomicInteger paused = new AtomicInteger();
  private final AtomicLong retriesThisEpisode = new AtomicLong();
  private volatile Instant episodeBegan;

  /**
   * The waits between retries: {@code initial}, doubled after each failed retry up to {@code max}.
   *
   * @param initial the first wait
   * @param max the longest wait, so a consumer notices within this long that Redis is back
   */
  public record Backoff(Duration initial, Duration max) {

    /** 100 ms doubling to 5 s. */
    public static final Backoff DEFAULT =
        new Backoff(Duration.ofMillis(100), Duration.ofSeconds(5));

    public Backoff {
      if (initial.isNegative() || initial.isZero() || max.compareTo(initial) < 0) {
        throw new IllegalArgumentException(
            "backoff needs 0 < initial <= max, got " + initial + " and " + max);
      }
    }

    /** The wait before retry number {@code retry} (1 for the first). */
    public Duration before(int retry) {
      Duration wait = initial;
      for (int i = 1; i < retry && wait.compareTo(max) < 0; i++) {
        wait = wait.multipliedBy(2);
      }
      return wait.compareTo(max) > 0 ? max : wait;
    }
  }

  /**
   * @param queue the queue whose consumers pause (a tag of the metrics, and in the logs)
   * @param stopping true once the consumers should give up waiting (the container is stopping)
   */
  public InfrastructurePause(
      String queue, Backoff backoff, BooleanSupplier stopping, Clock clock, MeterRegistry meters) {
    this.queue = queue;
    this.backoff = backoff;
    this.stopping = stopping;
    this.clock = clock;
    this.retries =
        Counter.builder(MetricNames.INFRASTRUCTURE_RETRIES)
            .tag("queue", queue)
            .description("deliveries processed again in place after Redis or the broker failed")
            .register(meters);
    Gauge.builder(MetricNames.CONSUMERS_PAUSED, paused, AtomicInteger::get)
        .tag("queue", queue)
        .description("consumers waiting for Redis or the broker, holding their delivery")
        .strongReference(true)
        .register(meters);
  }

  /**
   * Handles a failure of {@code processing}: a {@link FailureKind#BUG} is thrown back at once; an
   * infrastructure failure makes this consumer wait and run {@code processing} again, as often as
   * it takes.
   *
   * @param failure what the first run of {@code processing} threw
   * @param held false once the delivery is no longer this consumer's (its channel closed, as the
   *     broker does past its {@code consumer_timeout}): the broker gives it to a consumer again, so
   *     processing it here as well would process it twice
   * @return true once a run of {@code processing} returned normally; false when the consumer
   *     stopped, its thread was interrupted or the delivery was lost first: the caller hands the
   *     delivery back if its channel is still open
   * @throws RuntimeException {@code failure}, or what a retry threw, when it is a bug
   */
  public boolean retry(RuntimeException failure, BooleanSupplier held, Runnable processing) {
    if (FailureKind.of(failure) == FailureKind.BUG) {
      throw failure;
    }
    enter(failure);
    try {
      for (int retry = 1; ; retry++) {
        if (!sleep(backoff.before(retry)) || !held.getAsBoolean()) {
          return false;
        }
        retries.increment();
        retriesThisEpisode.incrementAndGet();
        try {
          processing.run();
          return true;
        } catch (RuntimeException again) {
          if (FailureKind.of(again) == FailureKind.BUG) {
            throw again;
          }
          log.debug("{}: still failing: {}", queue, again.toString());
        }
      }
    } finally {
      leave();
    }
  }

  /** How many consumers wait right now. */
  public int pausedConsumers() {
    return paused.get();
  }

  private void enter(RuntimeException failure) {
    if (paused.getAndIncrement() == 0) {
      episodeBegan = clock.instant();
      retriesThisEpisode.set(0);
      log.warn(
          "consumers of {} paused: Redis or the broker failed ({}); each keeps its delivery and"
              + " retries it, backing off up to {}",
          queue,
          failure.toString(),
          backoff.max());
    }
  }

  private void leave() {
    if (paused.decrementAndGet() == 0) {
      log.info(
          "consumers of {} resumed after {} ({} retries)",
          queue,
          Duration.between(episodeBegan, clock.instant()),
          retriesThisEpisode.get());
    }
  }

  /** Sleeps in short steps, so a stop is noticed quickly; false when stopping or interrupted. */
  private boolean sleep(Duration wait) {
    Duration left = wait;
    while (!stopping.getAsBoolean()) {
      if (left.isNegative() || left.isZero()) {
        return true;
      }
      Duration step = left.compareTo(STOP_CHECK) < 0 ? left : STOP_CHECK;
      try {
        Thread.sleep(step);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return false;
      }
      left = left.minus(step);
    }
    return false;
  }
}
