package dev.shepherd.engine.access;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The static API keys of a small installation, kept as SHA-256 hashes: a key is a long random
 * secret, so one fast hash is enough and the configuration never holds a key itself. A presented
 * key is hashed and looked up.
 */
public final class ApiKeys {

  /**
   * One key as configured.
   *
   * @param name the principal the key authenticates as
   * @param sha256 the key's SHA-256 hash, 64 hex digits
   * @param tenant the tenant its jobs belong to ({@code *} for an installation-wide operator)
   */
  public record ApiKey(String name, String sha256, String tenant, Set<String> groups) {

    public ApiKey {
      if (name == null || name.isBlank()) {
        throw new IllegalArgumentException("an API key needs a name");
      }
      if (sha256 == null || !sha256.matches("[0-9a-fA-F]{64}")) {
        throw new IllegalArgumentException(
            "API key '"
                + name
                + "': sha256 must be the key's SHA-256 hash in 64 hex digits (printf %s KEY |"
                + " sha256sum)");
      }
      sha256 = sha256.toLowerCase(java.util.Locale.ROOT);
      if (tenant == null || tenant.isBlank()) {
        throw new IllegalArgumentException(
            "API key '" + name + "' needs a tenant (* for an installation-wide operator)");
      }
      Tenants.requireValid(tenant, "API key '" + name + "'");
      groups = groups == null ? Set.of() : Set.copyOf(groups);
    }
  }

  public static final ApiKeys NONE = new ApiKeys(List.of());

  private final Map<String, Caller> byHash = new HashMap<>();
  private final Map<String, Caller> byName = new HashMap<>();

  public ApiKeys(List<ApiKey> keys) {
    for (ApiKey key : keys) {
      Caller caller = new Caller(key.name(), key.tenant(), key.groups());
      byName.putIfAbsent(key.name(), caller); // two keys of one name (a rotation): the first
      Caller previous = byHash.put(key.sha256(), caller);
      if (previous != null) {
        throw new IllegalArgumentException(
            "API keys '" + previous.name() + "' and '" + key.name() + "' have the same hash");
      }
    }
  }

  /** The caller of the key named {@code name}, or null for none. */
  public Caller byName(String name) {
    return byName.get(name);
  }

  public boolean isEmpty() {
    return byHash.isEmpty();
  }

  /** The caller a presented key authenticates, if it is one of the configured keys. */
  public Optional<Caller> authenticate(String presented) {
    if (presented == null || presented.isEmpty()) {
      return Optional.empty();
    }
    return Optional.ofNullable(byHash.get(sha256(presented)));
  }

  /** A key's SHA-256 hash in lower-case hex, as the configuration holds it. */
  public static String sha256(String key) {
    try {
      return HexFormat.of()
          .formatHex(
              MessageDigest.getInstance("SHA-256").digest(key.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JVM has SHA-256", e);
    }
  }
}
