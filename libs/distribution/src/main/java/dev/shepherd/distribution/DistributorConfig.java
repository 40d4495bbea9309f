package dev.shepherd.distribution;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.Collections;
import java.util.Map;
import java.util.TreeMap;

/**
 * A job type's choice of distributor and that distributor's settings, as configuration gave them
 * when an attempt started. It is a snapshot: stored with the attempt and used for its whole life
 * (cancel, status, callbacks), so a configuration changed meanwhile never makes Shepherd talk to a
 * task in a way it was not started with.
 *
 * <p>Settings are flat strings (an endpoint, a namespace, a timeout as ISO-8601), so the snapshot
 * stores as one small Redis hash or JSON object and reads the same in every language; a distributor
 * parses and checks its own settings in {@link Distributor#validate}.
 *
 * @param distributor the registered name of the distributor ({@code worker-pool}, {@code http})
 * @param settings that distributor's settings, sorted by name; never null
 */
public record DistributorConfig(String distributor, Map<String, String> settings) {

  /**
   * The distributor of every type that names no other: the type's pool's own workers run it with
   * their handlers (ADR 48). It takes no settings.
   */
  public static final String WORKER_POOL = "worker-pool";

  /** Whether this configuration chooses {@link #WORKER_POOL}. */
  public boolean isWorkerPool() {
    return WORKER_POOL.equals(distributor);
  }

  public DistributorConfig {
    if (distributor == null || distributor.isBlank()) {
      throw new IllegalArgumentException("a distributor configuration needs a distributor name");
    }
    var copy = new TreeMap<String, String>();
    if (settings != null) {
      settings.forEach(
          (name, value) -> {
            if (name == null || value == null) {
              throw new IllegalArgumentException(
                  "distributor '" + distributor + "' has a setting without a name or value");
            }
            copy.put(name, value);
          });
    }
    settings = Collections.unmodifiableMap(copy);
  }

  /** A setting's value, or null when it is not set. */
  public String setting(String name) {
    return settings.get(name);
  }

  /**
   * Whether a URL setting (an endpoint, a callback base, a template with its placeholders filled)
   * is an absolute http or https URL with a host: what every distributor's {@code validate} asks of
   * one.
   */
  public static boolean isHttpUrl(String value) {
    if (value == null) {
      return false;
    }
    try {
      URI uri = new URI(value);
      return uri.isAbsolute()
          && ("http".equals(uri.getScheme()) || "https".equals(uri.getScheme()))
          && uri.getHost() != null;
    } catch (URISyntaxException e) {
      return false;
    }
  }
}
