package dev.shepherd.store;

import java.time.Duration;

/**
 * @param prefix the first part of every key (tests use a unique one each)
 * @param partitions how many partitions the keyspace is split into; fixed for the life of the data
 * @param retention how long finished jobs are kept before Redis expires them (zero keeps them)
 */
public record StoreSettings(String prefix, int partitions, Duration retention) {

  public static final int DEFAULT_PARTITIONS = 16;

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
  }

  public static StoreSettings defaults(String prefix) {
    return new StoreSettings(prefix, DEFAULT_PARTITIONS, Duration.ofDays(7));
  }

  /** The key base of a partition; its {@code {pNN}} hash tag keeps the partition in one slot. */
  public String base(int partition) {
    return "%s:{p%02d}:".formatted(prefix, partition);
  }
}
