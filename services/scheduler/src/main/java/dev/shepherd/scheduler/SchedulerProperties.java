package dev.shepherd.scheduler;

import dev.shepherd.engine.dispatch.Dispatcher;
import dev.shepherd.engine.intake.ConcurrencyLimits;
import dev.shepherd.model.BatchLimits;
import dev.shepherd.model.JobTimeouts;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.convert.DurationStyle;

/**
 * The scheduler's settings ({@code shepherd.scheduler.*}).
 *
 * @param defaultMaxAttempts attempts of a job whose type and submission set none
 * @param maxAttempts attempts per job type
 * @param dispatchBatchSize outbox entries published per partition per pass
 * @param dispatchIdlePoll how often an idle dispatcher looks for due entries (delayed jobs and
 *     retries; new submissions to this scheduler wake it at once)
 * @param dispatchVisibility how long a reserved outbox entry is hidden from other schedulers
 * @param dispatchUnconfirmedRetry how much later an outbox entry the broker refused, or did not
 *     confirm in time, is published again
 * @param dispatchMarkWindow how long the dispatcher collects confirmed work messages before it
 *     marks them dispatched, in one call per partition for all of them (ADR 24); zero marks every
 *     pass's at once
 * @param dispatchErrorBackoff the wait after a failed dispatch pass (Redis or the broker down)
 *     before the next one
 * @param submitConsumers consumers of the AMQP submit queue
 * @param submitPrefetch unacked submissions per consumer (at least the batch size)
 * @param submitBatchSize the most AMQP submissions one consumer validates and stores together, with
 *     one Redis call per partition, and acks with one ack (1: each on its own)
 * @param submitBatchWait how long a submit consumer waits for one more submission before it stores
 *     the batch it has (adds at most about twice this to a submission when few arrive)
 * @param cancelPrefetch unacked AMQP cancel requests the cancel consumer holds
 * @param timeouts each job type's attempt timeouts (ADR 18), as {@code
 *     shepherd.scheduler.timeouts.<type>.start-to-close}, {@code ...<type>.stall}, {@code
 *     ...<type>.phase.<phase>} (one phase's own limit) and {@code ...<type>.schedule-to-start}:
 *     positive durations; a submission's own {@code timeouts} override them. {@code
 *     ...<type>.on-schedule-to-start} says what a job waiting past it becomes: {@code republish}
 *     (the default: published again) or {@code fail} (DEAD, {@code timeout:scheduleToStart}). Bound
 *     as one flat map of text because job types contain dots ({@code site.generate}): Spring splits
 *     the key of a map whose values are objects or {@code Duration}s at the first dot, and keeps it
 *     whole only for {@code java.lang} values; {@link #timeoutsByType()} reads it.
 * @param defaultConcurrencyLimit how many jobs of one concurrency key may run at once when neither
 *     the key nor its type sets a limit (ADR 30)
 * @param concurrencyLimit the limit of each concurrency key of a job type, by type
 * @param concurrencyKeyLimit one concurrency key's own limit, by key, whatever the type
 * @param orderingPolicy what a job of each type with an ordering key does to its key when it ends
 *     DEAD (ADR 29): {@code skip} (the default) lets the key's next job go, {@code block} holds
 *     them back until an operator redrives or discards it
 * @param batchSize the types that take batches (ADR 31), each with how many jobs of one ordering
 *     key one transaction carries at most (at least 2)
 * @param batchBytes a batch type's limit on the payload bytes of one transaction (0: none; 1 MiB
 *     when not set)
 * @param announcedTypeRetention how long after a worker last announced a job type (with each
 *     heartbeat) its jobs are still accepted (ADR 35; 24 hours when not set)
 */
@ConfigurationProperties("shepherd.scheduler")
public record SchedulerProperties(
    Integer defaultMaxAttempts,
    Map<String, Integer> maxAttempts,
    Integer dispatchBatchSize,
    Duration dispatchIdlePoll,
    Duration dispatchVisibility,
    Duration dispatchUnconfirmedRetry,
    Duration dispatchMarkWindow,
    Duration dispatchErrorBackoff,
    Integer submitConsumers,
    Integer submitPrefetch,
    Integer submitBatchSize,
    Duration submitBatchWait,
    Integer cancelPrefetch,
    Map<String, String> timeouts,
    Integer defaultConcurrencyLimit,
    Map<String, Integer> concurrencyLimit,
    Map<String, Integer> concurrencyKeyLimit,
    Map<String, String> orderingPolicy,
    Map<String, Integer> batchSize,
    Map<String, Long> batchBytes,
    Duration announcedTypeRetention) {

  /** A batch type's limit on one transaction's payload bytes when it sets none. */
  static final long DEFAULT_BATCH_BYTES = 1024 * 1024;

  private static final String START_TO_CLOSE = "start-to-close";
  private static final String STALL = "stall";
  private static final String PHASE = ".phase.";
  private static final String SCHEDULE_TO_START = "schedule-to-start";
  private static final String ON_SCHEDULE_TO_START = "on-schedule-to-start";

  public SchedulerProperties {
    defaultMaxAttempts = defaultMaxAttempts == null ? 3 : defaultMaxAttempts;
    announcedTypeRetention =
        announcedTypeRetention == null ? Duration.ofHours(24) : announcedTypeRetention;
    if (!announcedTypeRetention.isPositive()) {
      throw new IllegalArgumentException(
          "shepherd.scheduler.announced-type-retention must be positive, was "
              + announcedTypeRetention);
    }
    maxAttempts = maxAttempts == null ? Map.of() : Map.copyOf(maxAttempts);
    dispatchBatchSize = dispatchBatchSize == null ? 200 : dispatchBatchSize;
    dispatchIdlePoll = dispatchIdlePoll == null ? Duration.ofMillis(500) : dispatchIdlePoll;
    dispatchVisibility = dispatchVisibility == null ? Duration.ofSeconds(30) : dispatchVisibility;
    submitConsumers = submitConsumers == null ? 2 : submitConsumers;
    submitPrefetch = submitPrefetch == null ? 100 : submitPrefetch;
    submitBatchSize = submitBatchSize == null ? 100 : submitBatchSize;
    if (submitBatchSize < 1) {
      throw new IllegalArgumentException(
          "shepherd.scheduler.submit-batch-size must be >= 1, was " + submitBatchSize);
    }
    submitBatchWait =
        positive(
            "submit-batch-wait", submitBatchWait == null ? Duration.ofMillis(1) : submitBatchWait);
    dispatchUnconfirmedRetry =
        positive(
            "dispatch-unconfirmed-retry",
            dispatchUnconfirmedRetry == null
                ? Dispatcher.RETRY_UNCONFIRMED
                : dispatchUnconfirmedRetry);
    dispatchMarkWindow = dispatchMarkWindow == null ? Duration.ofMillis(200) : dispatchMarkWindow;
    if (dispatchMarkWindow.isNegative()) {
      throw new IllegalArgumentException(
          "shepherd.scheduler.dispatch-mark-window must not be negative, was "
              + dispatchMarkWindow);
    }
    dispatchErrorBackoff =
        positive(
            "dispatch-error-backoff",
            dispatchErrorBackoff == null ? Duration.ofSeconds(1) : dispatchErrorBackoff);
    cancelPrefetch = cancelPrefetch == null ? 10 : cancelPrefetch;
    if (cancelPrefetch < 1) {
      throw new IllegalArgumentException(
          "shepherd.scheduler.cancel-prefetch must be >= 1, was " + cancelPrefetch);
    }
    if (defaultMaxAttempts < 1 || defaultMaxAttempts > 100) {
      throw new IllegalArgumentException("shepherd.scheduler.default-max-attempts must be 1..100");
    }
    maxAttempts.forEach(
        (type, n) -> {
          if (n < 1 || n > 100) {
            throw new IllegalArgumentException(
                "shepherd.scheduler.max-attempts." + type + " must be 1..100, was " + n);
          }
        });
    timeouts = timeouts == null ? Map.of() : Map.copyOf(timeouts);
    byType(timeouts); // fails at start-up on a bad name or value
    defaultConcurrencyLimit = defaultConcurrencyLimit == null ? 1 : defaultConcurrencyLimit;
    concurrencyLimit = concurrencyLimit == null ? Map.of() : Map.copyOf(concurrencyLimit);
    concurrencyKeyLimit = concurrencyKeyLimit == null ? Map.of() : Map.copyOf(concurrencyKeyLimit);
    concurrencyLimits(defaultConcurrencyLimit, concurrencyLimit, concurrencyKeyLimit); // checks
    orderingPolicy = orderingPolicy == null ? Map.of() : Map.copyOf(orderingPolicy);
    orderingPolicy.forEach(
        (type, policy) -> {
          if (!policy.equals("skip") && !policy.equals("block")) {
            throw new IllegalArgumentException(
                "shepherd.scheduler.ordering-policy."
                    + type
                    + " must be skip or block, was "
                    + policy);
          }
        });
    batchSize = batchSize == null ? Map.of() : Map.copyOf(batchSize);
    batchBytes = batchBytes == null ? Map.of() : Map.copyOf(batchBytes);
    batchSize.forEach(
        (type, size) -> {
          if (size < 2) {
            throw new IllegalArgumentException(
                "shepherd.scheduler.batch-size." + type + " must be at least 2, was " + size);
          }
        });
    Set<String> batchTypes = batchSize.keySet();
    batchBytes.forEach(
        (type, bytes) -> {
          if (bytes < 0 || !batchTypes.contains(type)) {
            throw new IllegalArgumentException(
                "shepherd.scheduler.batch-bytes."
                    + type
                    + " must be 0 or more, for a type with a batch-size, was "
                    + bytes);
          }
        });
  }

  /** The types that take batches, each with how large one transaction may grow (ADR 31). */
  public Map<String, BatchLimits> batches() {
    Map<String, BatchLimits> batches = new HashMap<>();
    batchSize.forEach(
        (type, size) ->
            batches.put(
                type, new BatchLimits(size, batchBytes.getOrDefault(type, DEFAULT_BATCH_BYTES))));
    return Map.copyOf(batches);
  }

  /** The job types whose keyed jobs block their ordering key when they end DEAD. */
  public Set<String> typesThatBlockTheirKey() {
    return orderingPolicy.entrySet().stream()
        .filter(e -> e.getValue().equals("block"))
        .map(Map.Entry::getKey)
        .collect(java.util.stream.Collectors.toUnmodifiableSet());
  }

  /** The concurrency keys' limits (ADR 30). */
  public ConcurrencyLimits concurrencyLimits() {
    return concurrencyLimits(defaultConcurrencyLimit, concurrencyLimit, concurrencyKeyLimit);
  }

  private static ConcurrencyLimits concurrencyLimits(
      int defaultLimit, Map<String, Integer> byType, Map<String, Integer> byKey) {
    try {
      return new ConcurrencyLimits(defaultLimit, byType, byKey);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("shepherd.scheduler: " + e.getMessage(), e);
    }
  }

  private static Duration positive(String name, Duration value) {
    if (!value.isPositive()) {
      throw new IllegalArgumentException(
          "shepherd.scheduler." + name + " must be positive, was " + value);
    }
    return value;
  }

  /** The attempt timeouts of each job type that sets any. */
  public Map<String, JobTimeouts> timeoutsByType() {
    return byType(timeouts);
  }

  private static Map<String, JobTimeouts> byType(Map<String, String> flat) {
    Map<String, JobTimeouts> byType = new HashMap<>();
    flat.forEach(
        (key, text) -> {
          String property = "shepherd.scheduler.timeouts." + key;
          // <type>.phase.<phase>: phase names have no dots, job types do
          int phaseAt = key.lastIndexOf(PHASE);
          String phase = null;
          String type;
          String name;
          if (phaseAt > 0 && key.indexOf('.', phaseAt + PHASE.length()) < 0) {
            type = key.substring(0, phaseAt);
            phase = key.substring(phaseAt + PHASE.length());
            name = "phase";
          } else {
            int dot = key.lastIndexOf('.');
            type = dot < 0 ? "" : key.substring(0, dot);
            name = key.substring(dot + 1);
          }
          if (type.isEmpty()
              || (phase == null
                  && !List.of(START_TO_CLOSE, STALL, SCHEDULE_TO_START, ON_SCHEDULE_TO_START)
                      .contains(name))
              || (phase != null && phase.isBlank())) {
            throw new IllegalArgumentException(
                property
                    + " is not a timeout: use shepherd.scheduler.timeouts.<type>. followed by "
                    + START_TO_CLOSE
                    + ", "
                    + STALL
                    + ", phase.<phase>, "
                    + SCHEDULE_TO_START
                    + " or "
                    + ON_SCHEDULE_TO_START);
          }
          JobTimeouts set = byType.getOrDefault(type, JobTimeouts.NONE);
          if (name.equals(ON_SCHEDULE_TO_START)) {
            if (!text.equals("fail") && !text.equals("republish")) {
              throw new IllegalArgumentException(
                  property + " must be fail or republish, was '" + text + "'");
            }
            byType.put(
                type,
                new JobTimeouts(
                    set.startToClose(),
                    set.stall(),
                    set.phases(),
                    set.scheduleToStart(),
                    text.equals("fail")));
            return;
          }
          Duration value;
          try {
            value = DurationStyle.detectAndParse(text);
          } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(
                property + " must be a duration (30s, 10m, PT30S), was '" + text + "'", e);
          }
          if (!value.isPositive()) {
            throw new IllegalArgumentException(
                property + " must be a positive duration, was '" + text + "'");
          }
          Map<String, Duration> phases = new HashMap<>(set.phases());
          if (phase != null) {
            phases.put(phase, value);
          }
          byType.put(
              type,
              new JobTimeouts(
                  name.equals(START_TO_CLOSE) ? value : set.startToClose(),
                  name.equals(STALL) ? value : set.stall(),
                  phases,
                  name.equals(SCHEDULE_TO_START) ? value : set.scheduleToStart(),
                  set.failAtScheduleToStart()));
        });
    return Map.copyOf(byType);
  }
}
