package dev.shepherd.engine.intake;

import java.util.Map;

/**
 * How many jobs of one concurrency key may run at once (ADR 30): the key's own limit, else its job
 * type's, else the default.
 *
 * @param defaultLimit the limit of a key whose key and type set none
 * @param byType the limit of each key of a job type, by type
 * @param byKey one key's own limit, by key, whatever the type
 */
public record ConcurrencyLimits(
    int defaultLimit, Map<String, Integer> byType, Map<String, Integer> byKey) {

  /** One job at a time per key, unless configured otherwise. */
  public static final ConcurrencyLimits DEFAULT = new ConcurrencyLimits(1, Map.of(), Map.of());

  public ConcurrencyLimits {
    byType = byType == null ? Map.of() : Map.copyOf(byType);
    byKey = byKey == null ? Map.of() : Map.copyOf(byKey);
    check("default", defaultLimit);
    byType.forEach((type, limit) -> check("of type " + type, limit));
    byKey.forEach((key, limit) -> check("of key " + key, limit));
  }

  private static void check(String which, int limit) {
    if (limit < 1) {
      throw new IllegalArgumentException(
          "the concurrency limit " + which + " must be at least 1, was " + limit);
    }
  }

  /** The limit of {@code key} for jobs of {@code type}. */
  public int limitOf(String type, String key) {
    return byKey.getOrDefault(key, byType.getOrDefault(type, defaultLimit));
  }
}
