package dev.shepherd.store;

import java.time.Duration;

/**
 * @param prefix the first part of every key (tests use a unique one each)
 * @param partitions how many partitions the keyspace is split into; fixed for the life of the data
 * @param retention how long finished jobs are kept before Redis expires them (zero keeps them)
 * @param deadRetention how long dead-job records, and the DEAD jobs they name, are kept (zero keeps
 *     them); a discarded record is kept this long from its discard
 * @param lateOutcomeGrace how long a job whose last attempt was released (drain, over capacity,
 *     lost worker) waits for that attempt's published outcome before it goes DEAD (ADR 14)
 * @param replicasToAcknowledge how many replicas of the partition's Redis must have a submission
 *     before it counts as accepted ({@code WAIT}; 0: the master's reply alone, ADR 49)
 * @param replicationTimeout how long a submission waits for those replicas before it is refused
 */
public record StoreSettings(
    String prefix,
    int partitions,
    Duration retention,
    Duration deadRetention,
    Duration lateOutcomeGrace,
    int replicasToAcknowledge,
    Duration replicationTimeout) {

  public static final int DEFAULT_PARTITIONS = 16;
  public static final Duration DEFAULT_RETENTION = Duration.ofDays(7);
  public static final Duration DEFAULT_DEAD_RETENTION = Duration.ofDays(30);
  public static final Duration DEFAULT_LATE_OUTCOME_GRACE = Duration.ofMinutes(1);
  public static final Duration DEFAULT_REPLICATION_TIMEOUT = Duration.ofSeconds(1);

  public StoreSettings {
    if (prefix == null || prefix.isBlank() || prefix.contains("{") || prefix.contains("}")) {
      throw new IllegalArgumentException("prefix must be non-blank and free of braces: " + prefix);
    }
    if (partitions < 1 || partitions > 100) {
      throw new IllegalArgumentException("partitions must be 1..100, was " + partitions);
    }
    if (retention == null || retention.isNegative()) {
      throw new IllegalArgumentException("retention must be zero or positive");
    }
    if (deadRetention == null || deadRetention.isNegative()) {
      throw new IllegalArgumentException("dead-retention must be zero or positive");
    }
    if (lateOutcomeGrace == null || lateOutcomeGrace.isNegative() || lateOutcomeGrace.isZero()) {
      throw new IllegalArgumentException("late-outcome-grace must be positive");
    }
    if (replicasToAcknowledge < 0) {
      throw new IllegalArgumentException("replicas-to-acknowledge must be 0 or more");
    }
    if (replicationTimeout == null
        || replicationTimeout.isNegative()
        || replicationTimeout.isZero()) {
      throw new IllegalArgumentException("replication-timeout must be positive");
    }
  }

  /** Settings whose submissions count as accepted on the master's reply alone. */
  public StoreSettings(
      String prefix,
      int partitions,
      Duration retention,
      Duration deadRetention,
      Duration lateOutcomeGrace) {
    this(
        prefix,
        partitions,
        retention,
        deadRetention,
        lateOutcomeGrace,
        0,
        DEFAULT_REPLICATION_TIMEOUT);
  }

  /** These settings with submissions acknowledged by {@code replicas} replicas first. */
  public StoreSettings withReplicasToAcknowledge(int replicas, Duration timeout) {
    return new StoreSettings(
        prefix, partitions, retention, deadRetention, lateOutcomeGrace, replicas, timeout);
  }

  /** Settings with the default grace for a released last attempt's outcome. */
  public StoreSettings(String prefix, int partitions, Duration retention, Duration deadRetention) {
    this(prefix, partitions, retention, deadRetention, DEFAULT_LATE_OUTCOME_GRACE);
  }

  /** Settings with the default dead-job retention. */
  public StoreSettings(String prefix, int partitions, Duration retention) {
    this(prefix, partitions, retention, DEFAULT_DEAD_RETENTION);
  }

  public static StoreSettings defaults(String prefix) {
    return new StoreSettings(prefix, DEFAULT_PARTITIONS, DEFAULT_RETENTION);
  }
}
