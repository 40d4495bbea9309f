package dev.shepherd.engine.intake;

import dev.shepherd.messaging.Topology;
import dev.shepherd.model.BatchLimits;
import dev.shepherd.model.JobTimeouts;
import java.util.Map;
import java.util.Set;

/**
 * The job types this installation accepts: a type is known when a worker pool consumes it, and each
 * may set its own default number of attempts and its attempts' timeouts, its concurrency limits,
 * what its keyed jobs do to their key when they end DEAD, and whether it takes batches.
 */
public record JobTypeCatalog(
    Topology topology,
    Map<String, Integer> maxAttempts,
    int defaultMaxAttempts,
    Map<String, JobTimeouts> timeouts,
    ConcurrencyLimits concurrencyLimits,
    Set<String> typesThatBlockTheirKey,
    Map<String, BatchLimits> batches) {

  public JobTypeCatalog {
    maxAttempts = Map.copyOf(maxAttempts);
    timeouts = timeouts == null ? Map.of() : Map.copyOf(timeouts);
    concurrencyLimits = concurrencyLimits == null ? ConcurrencyLimits.DEFAULT : concurrencyLimits;
    typesThatBlockTheirKey =
        typesThatBlockTheirKey == null ? Set.of() : Set.copyOf(typesThatBlockTheirKey);
    batches = batches == null ? Map.of() : Map.copyOf(batches);
  }

  public JobTypeCatalog(
      Topology topology,
      Map<String, Integer> maxAttempts,
      int defaultMaxAttempts,
      Map<String, JobTimeouts> timeouts,
      ConcurrencyLimits concurrencyLimits,
      Set<String> typesThatBlockTheirKey) {
    this(
        topology,
        maxAttempts,
        defaultMaxAttempts,
        timeouts,
        concurrencyLimits,
        typesThatBlockTheirKey,
        null);
  }

  public JobTypeCatalog(
      Topology topology,
      Map<String, Integer> maxAttempts,
      int defaultMaxAttempts,
      Map<String, JobTimeouts> timeouts,
      ConcurrencyLimits concurrencyLimits) {
    this(topology, maxAttempts, defaultMaxAttempts, timeouts, concurrencyLimits, null);
  }

  public JobTypeCatalog(
      Topology topology,
      Map<String, Integer> maxAttempts,
      int defaultMaxAttempts,
      Map<String, JobTimeouts> timeouts) {
    this(topology, maxAttempts, defaultMaxAttempts, timeouts, null, null);
  }

  public JobTypeCatalog(
      Topology topology, Map<String, Integer> maxAttempts, int defaultMaxAttempts) {
    this(topology, maxAttempts, defaultMaxAttempts, Map.of());
  }

  public boolean isKnown(String type) {
    return topology.poolOf(type) != null;
  }

  public String poolOf(String type) {
    return topology.poolOf(type);
  }

  public int maxAttemptsOf(String type) {
    return maxAttempts.getOrDefault(type, defaultMaxAttempts);
  }

  /** How many jobs of {@code type} with concurrency key {@code key} may run at once (ADR 30). */
  public int concurrencyLimitOf(String type, String key) {
    return concurrencyLimits.limitOf(type, key);
  }

  /**
   * Whether a job of {@code type} with an ordering key that ends DEAD holds its key's later jobs
   * back until an operator redrives or discards it (the {@code block} policy), rather than letting
   * the next one go ({@code skip}, the default).
   */
  public boolean blocksItsKey(String type) {
    return typesThatBlockTheirKey.contains(type);
  }

  /**
   * How large the transactions of {@code type} may grow when its jobs carry an ordering key (ADR
   * 31); null when the type takes no batches.
   */
  public BatchLimits batchOf(String type) {
    return batches.get(type);
  }

  /** The type's attempt timeouts ({@link JobTimeouts#NONE} when it sets none). */
  public JobTimeouts timeoutsOf(String type) {
    return timeouts.getOrDefault(type, JobTimeouts.NONE);
  }
}
