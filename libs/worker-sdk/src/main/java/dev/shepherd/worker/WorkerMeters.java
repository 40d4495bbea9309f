package dev.shepherd.worker;

import dev.shepherd.model.MetricNames;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Every counter and timer of one worker, registered on its {@link MeterRegistry} here and only here
 * (the names are {@link MetricNames}'). Each part of the worker is given this object and calls the
 * method that says what happened; none of them registers a meter itself.
 */
final class WorkerMeters {

  private final MeterRegistry registry;
  private final String pool;
  private final Counter consumed;
  private final Counter duplicates;
  private final Counter unreadable;
  private final Counter leasesLost;
  private final Counter ordersConsumed;
  private final Counter ordersUnreadable;

  /**
   * The meters every job of a type touches, registered once: looking a tagged meter up in the
   * registry for each job costs more than recording into it.
   */
  private final Map<String, ByType> byType = new ConcurrentHashMap<>();

  private record ByType(
      Counter claimed, Timer submitToStart, Timer succeeded, Counter succeededPublished) {}

  /**
   * @param queue the pool's work queue, a tag of the consumed-messages counter
   * @param controlQueue the worker's own control queue, likewise
   */
  WorkerMeters(MeterRegistry registry, String pool, String queue, String controlQueue) {
    this.registry = registry;
    this.pool = pool;
    this.consumed = registry.counter(MetricNames.MESSAGES_CONSUMED, "queue", queue);
    this.ordersConsumed = registry.counter(MetricNames.MESSAGES_CONSUMED, "queue", controlQueue);
    this.ordersUnreadable =
        counter(
            MetricNames.UNREADABLE_MESSAGES,
            "control orders that could not be read; acked and ignored",
            "source",
            "control");
    this.duplicates =
        counter(
            MetricNames.DUPLICATE_DELIVERIES,
            "deliveries acked without running: the attempt was held or finished");
    this.unreadable =
        counter(
            MetricNames.UNREADABLE_MESSAGES,
            "work messages that could not be read and became dead-job records",
            "source",
            "work");
    this.leasesLost =
        counter(
            MetricNames.LEASES_LOST,
            "attempts stopped because their lease renewal was refused, or not confirmed in time");
  }

  /** A delivery came from the work queue. */
  void consumed() {
    consumed.increment();
  }

  /** A delivery was acked without running: its attempt was held or finished. */
  void duplicate() {
    duplicates.increment();
  }

  /** A work message could not be read and became a dead-job record. */
  void unreadable() {
    unreadable.increment();
  }

  /** An attempt was stopped because its lease was refused or went unconfirmed. */
  void leaseLost() {
    leasesLost.increment();
  }

  /** A delivery of a job type this worker has no handler for went back to the queue. */
  void givenBack(String type) {
    registry.counter(MetricNames.DELIVERIES_GIVEN_BACK, MetricNames.TAG_TYPE, type).increment();
  }

  /** An attempt of {@code type} was claimed; {@code submitToStart} is null when unknown. */
  void claimed(String type, Duration submitToStart) {
    ByType meters = byType.computeIfAbsent(type, this::registerByType);
    meters.claimed().increment();
    if (submitToStart != null) {
      meters.submitToStart().record(submitToStart);
    }
  }

  /** The broker confirmed the outcome of an attempt of {@code type}. */
  void outcomePublished(String type, String outcome) {
    if (outcome.equals("SUCCEEDED")) {
      byType.computeIfAbsent(type, this::registerByType).succeededPublished().increment();
    } else {
      outcomePublishedCounter(type, outcome).increment();
    }
  }

  private Counter outcomePublishedCounter(String type, String outcome) {
    return registry.counter(
        MetricNames.OUTCOMES_PUBLISHED, MetricNames.TAG_TYPE, type, "outcome", outcome);
  }

  /** A handler ran for {@code took} and its attempt ended with the event {@code outcome}. */
  void ran(String type, String outcome, Duration took) {
    ByType meters = byType.computeIfAbsent(type, this::registerByType);
    (outcome.equals("SUCCEEDED") ? meters.succeeded() : ranTimer(type, outcome)).record(took);
  }

  private ByType registerByType(String type) {
    return new ByType(
        registry.counter(
            MetricNames.JOBS_CLAIMED, MetricNames.TAG_TYPE, type, MetricNames.TAG_POOL, pool),
        timer(MetricNames.SUBMIT_TO_START, type).register(registry),
        ranTimer(type, "SUCCEEDED"),
        outcomePublishedCounter(type, "SUCCEEDED"));
  }

  private Timer ranTimer(String type, String outcome) {
    return timer(MetricNames.START_TO_FINISH, type).tag("outcome", outcome).register(registry);
  }

  /** A handler's phase ended after {@code took}. */
  void phase(String type, String phase, Duration took) {
    timer(MetricNames.PHASE_DURATION, type).tag("phase", phase).register(registry).record(took);
  }

  /** A running attempt was stopped because its job was cancelled or abandoned ({@code kind}). */
  void attemptStopped(String type, String kind) {
    counter(
            MetricNames.ATTEMPTS_CANCELLED,
            "running attempts stopped because their job was cancelled or abandoned",
            MetricNames.TAG_TYPE,
            type,
            MetricNames.TAG_KIND,
            kind)
        .increment();
  }

  /** The worker stopped a running attempt past one of its timeouts ({@code timeout}). */
  void timedOut(String type, String timeout) {
    counter(
            MetricNames.WORKER_ATTEMPTS_TIMED_OUT,
            "running attempts a worker stopped because they passed a timeout",
            MetricNames.TAG_TYPE,
            type,
            MetricNames.TAG_TIMEOUT,
            timeout)
        .increment();
  }

  /** An order came from the worker's control queue. */
  void orderConsumed() {
    ordersConsumed.increment();
  }

  /** An order could not be read; it was acked and ignored. */
  void orderUnreadable() {
    ordersUnreadable.increment();
  }

  private Counter counter(String name, String description, String... tags) {
    return Counter.builder(name).description(description).tags(tags).register(registry);
  }

  private static Timer.Builder timer(String name, String type) {
    return Timer.builder(name).tag(MetricNames.TAG_TYPE, type).publishPercentileHistogram();
  }
}
