package dev.shepherd.worker.config;

import dev.shepherd.distribution.DistributorConfig;
import dev.shepherd.worker.DistributedHandler;
import java.net.URI;
import java.time.Duration;
import java.util.Collections;
import java.util.Map;
import java.util.TreeMap;
import org.springframework.boot.context.properties.ConfigurationProperties;

/**
 * The job types this worker runs on a backend instead of in a handler of its own ({@code
 * shepherd.distribution.*}, ADR 44, 45): each becomes a {@link
 * dev.shepherd.worker.DistributedHandler} that the worker claims and reports for like any type.
 * With no types configured nothing changes and no key is needed. A type whose name has dots is
 * written in brackets.
 *
 * <pre>{@code
 * shepherd:
 *   distribution:
 *     server-key: ${SHEPHERD_CALLBACK_KEY}   # the scheduler's, 32 bytes or more
 *     callback-url: http://scheduler:8080
 *     types:
 *       "[report.render]":
 *         distributor: http
 *         max-attempts: 5
 *         settings:
 *           endpoint: http://renderer:8080/tasks
 *           timeToRun: PT10M
 * }</pre>
 *
 * <p>What is wrong with the whole of it (a missing key, a distributor's setting) is reported at
 * start-up in one message ({@link DistributedTypes#handlers}).
 *
 * @param serverKey the key the scheduler checks callbacks with; each attempt's callback secret is
 *     derived from it, so it must be the scheduler's own (at least 32 bytes; required with types)
 * @param callbackUrl Shepherd's public base URL, which the backends call back (required with types)
 * @param runCalls how many times one call to a backend (a run, a cancel) is made before a transient
 *     failure fails it (default 5, at least 1)
 * @param firstBackoff the wait after a call's first transient failure, doubled after each next one
 *     (default 200ms)
 * @param maxBackoff the longest wait between two calls (default 5s, at least {@code first-backoff})
 * @param statusInterval how often a running attempt's task status is asked of its backend (default
 *     1s, positive): how soon a Kubernetes Job's outcome is seen
 * @param types each distributed job type's configuration, by type
 */
@ConfigurationProperties("shepherd.distribution")
public record DistributionProperties(
    String serverKey,
    URI callbackUrl,
    Integer runCalls,
    Duration firstBackoff,
    Duration maxBackoff,
    Duration statusInterval,
    Map<String, TypeProperties> types) {

  public static final int DEFAULT_RUN_CALLS = 5;
  public static final Duration DEFAULT_FIRST_BACKOFF = Duration.ofMillis(200);
  public static final Duration DEFAULT_MAX_BACKOFF = Duration.ofSeconds(5);

  public DistributionProperties {
    runCalls = runCalls == null ? DEFAULT_RUN_CALLS : runCalls;
    firstBackoff = firstBackoff == null ? DEFAULT_FIRST_BACKOFF : firstBackoff;
    maxBackoff = maxBackoff == null ? DEFAULT_MAX_BACKOFF : maxBackoff;
    statusInterval =
        statusInterval == null ? DistributedHandler.DEFAULT_STATUS_INTERVAL : statusInterval;
    types = types == null ? Map.of() : Collections.unmodifiableMap(new TreeMap<>(types));
    if (runCalls < 1) {
      throw new IllegalArgumentException(
          "shepherd.distribution.run-calls must be >= 1, was " + runCalls);
    }
    if (firstBackoff.isNegative() || maxBackoff.compareTo(firstBackoff) < 0) {
      throw new IllegalArgumentException(
          "shepherd.distribution.first-backoff must not be negative nor above max-backoff, was "
              + firstBackoff
              + " and "
              + maxBackoff);
    }
    if (!statusInterval.isPositive()) {
      throw new IllegalArgumentException(
          "shepherd.distribution.status-interval must be positive, was " + statusInterval);
    }
  }

  /** No distributed types: what a worker gets when it configures none. */
  public static DistributionProperties none() {
    return new DistributionProperties(null, null, null, null, null, null, null);
  }

  /**
   * One distributed job type.
   *
   * @param distributor the distributor's registered name ({@code http}, {@code kubernetes-job})
   * @param settings the distributor's settings, flat strings by name ({@code endpoint}, {@code
   *     timeToRun}); a kebab-case name ({@code time-to-run}) is read as its camelCase one
   * @param maxAttempts the attempts a job of the type gets when its submission names none; null for
   *     the scheduler's default
   */
  public record TypeProperties(
      String distributor, Map<String, String> settings, Integer maxAttempts) {

    public TypeProperties {
      var camel = new TreeMap<String, String>();
      if (settings != null) {
        settings.forEach((name, value) -> camel.put(camelCase(name), value));
      }
      settings = Collections.unmodifiableMap(camel);
    }

    /** The snapshot every attempt of the type runs with; null when no distributor is named. */
    DistributorConfig config() {
      return distributor == null || distributor.isBlank()
          ? null
          : new DistributorConfig(distributor, settings);
    }

    private static String camelCase(String name) {
      var out = new StringBuilder(name.length());
      boolean upper = false;
      for (char c : name.toCharArray()) {
        if (c == '-') {
          upper = true;
        } else {
          out.append(upper ? Character.toUpperCase(c) : c);
          upper = false;
        }
      }
      return out.toString();
    }
  }
}
