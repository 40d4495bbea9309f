package dev.shepherd.worker.config;

import dev.shepherd.distribution.Distributor;
import dev.shepherd.distribution.DistributorCalls;
import dev.shepherd.distribution.DistributorConfig;
import dev.shepherd.distribution.Distributors;
import dev.shepherd.distribution.InvalidDistributorConfigException;
import dev.shepherd.distribution.http.CallbackSignatures;
import dev.shepherd.distribution.http.HttpDistributor;
import dev.shepherd.worker.DistributedHandler;
import dev.shepherd.worker.RemoteReports;
import java.net.URI;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Turns {@code shepherd.distribution.*} into one {@link DistributedHandler} per configured type,
 * after checking the whole configuration: the server key and callback URL, each type's attempts,
 * and each type's distributor settings through the {@link Distributors} registry. Everything wrong
 * is reported at once, in one exception, so a start-up fails once with every problem named.
 *
 * <p>A type that names {@code worker-pool} (ADR 48) gets no handler here: it runs on the pool's own
 * handlers, as a type not listed does, and takes no settings.
 *
 * <p>The registry always has the {@code http} distributor; any other (the {@code kubernetes-job}
 * one, a team's own) is passed in, built by the application that runs it, and registered and
 * checked the same way. A name registered twice fails the start naming both classes.
 *
 * <pre>{@code
 * List<DistributedHandler> handlers = DistributedTypes.handlers(properties, remoteReports,
 *     DistributedTypes.httpClient(), List.of(kubernetesJobs), clock);
 * }</pre>
 */
public final class DistributedTypes {

  private static final String PREFIX = "shepherd.distribution.";

  private DistributedTypes() {}

  /** The HTTP client the {@code http} distributor calls services with. */
  public static HttpClient httpClient() {
    return HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  }

  /** The handlers of types that use the {@code http} distributor only. */
  public static List<DistributedHandler> handlers(
      DistributionProperties properties, RemoteReports reports, HttpClient client, Clock clock) {
    return handlers(properties, reports, client, List.of(), clock);
  }

  /**
   * @param others the distributors besides {@code http} that types may name
   * @return one handler per configured type, sorted by type; none when no type is configured
   * @throws IllegalStateException naming every problem of the configuration
   */
  public static List<DistributedHandler> handlers(
      DistributionProperties properties,
      RemoteReports reports,
      HttpClient client,
      List<? extends Distributor> others,
      Clock clock) {
    return handlers(
        properties, reports, client, others, clock, DistributedHandler.TaskRecords.NONE);
  }

  /**
   * @param records where each attempt's task is recorded for the job view (the store's {@code
   *     Leases.recordTask})
   * @return one handler per configured type, sorted by type; none when no type is configured
   * @throws IllegalStateException naming every problem of the configuration
   */
  public static List<DistributedHandler> handlers(
      DistributionProperties properties,
      RemoteReports reports,
      HttpClient client,
      List<? extends Distributor> others,
      Clock clock,
      DistributedHandler.TaskRecords records) {
    var problems = new ArrayList<String>();
    var remote = new LinkedHashMap<String, DistributionProperties.TypeProperties>();
    properties
        .types()
        .forEach(
            (type, settings) -> {
              DistributorConfig config = settings == null ? null : settings.config();
              if (config == null || !config.isWorkerPool()) {
                remote.put(type, settings);
              } else if (!config.settings().isEmpty()) {
                // worker-pool is the pool's own handlers, as for a type not listed here
                problems.add(
                    new InvalidDistributorConfigException.Problem(
                            type,
                            "settings",
                            "worker-pool takes none (the topology names a type's pool), was "
                                + config.settings().keySet())
                        .toString());
              }
            });
    if (remote.isEmpty() && problems.isEmpty()) {
      return List.of();
    }
    if (!remote.isEmpty()) {
      serverKey(properties.serverKey(), problems);
      callbackUrl(properties.callbackUrl(), problems);
    }
    var configs = new LinkedHashMap<String, DistributorConfig>();
    remote.forEach(
        (type, settings) -> {
          configs.put(type, settings == null ? null : settings.config());
          if (settings != null && settings.maxAttempts() != null && settings.maxAttempts() < 1) {
            problems.add(
                new InvalidDistributorConfigException.Problem(
                        type, "max-attempts", "must be >= 1, was " + settings.maxAttempts())
                    .toString());
          }
        });
    Distributors distributors =
        Distributors.of(
            new HttpDistributor(
                client, callbackSignatures(properties, clock), callbackBase(properties)));
    others.forEach(distributors::register);
    try {
      distributors.validateAll(configs);
    } catch (InvalidDistributorConfigException e) {
      e.problems().forEach(p -> problems.add(p.toString()));
    }
    if (!problems.isEmpty()) {
      throw new IllegalStateException(
          "shepherd.distribution cannot be used, "
              + (problems.size() == 1 ? "1 problem: " : problems.size() + " problems: ")
              + String.join("; ", problems));
    }
    var calls =
        new DistributorCalls(
            properties.runCalls(),
            properties.firstBackoff(),
            properties.maxBackoff(),
            DistributorCalls.DEFAULT_VISIBILITY_GRACE,
            DistributorCalls.Sleeper.THREAD,
            clock);
    var handlers = new ArrayList<DistributedHandler>();
    for (Map.Entry<String, DistributorConfig> type : configs.entrySet()) {
      DistributorConfig config = type.getValue();
      handlers.add(
          new DistributedHandler(
              type.getKey(),
              distributors.forConfig(config),
              config,
              calls,
              reports,
              clock,
              properties.types().get(type.getKey()).maxAttempts(),
              properties.statusInterval(),
              records));
    }
    return List.copyOf(handlers);
  }

  /**
   * What a distributor derives each attempt's callback secret with ({@code
   * shepherd.distribution.server-key}), for an application that builds a distributor of its own. A
   * missing or short key gives a placeholder here, since {@link #handlers} fails the start naming
   * it before any attempt runs.
   */
  public static CallbackSignatures callbackSignatures(
      DistributionProperties properties, Clock clock) {
    byte[] key = serverKey(properties.serverKey(), new ArrayList<>());
    return new CallbackSignatures(
        key == null ? new byte[CallbackSignatures.MIN_KEY_BYTES] : key,
        CallbackSignatures.DEFAULT_TOLERANCE,
        clock);
  }

  /**
   * Shepherd's public base URL, which backends call back ({@code
   * shepherd.distribution.callback-url}); a placeholder when it is missing or wrong, which {@link
   * #handlers} reports.
   */
  public static URI callbackBase(DistributionProperties properties) {
    URI url = callbackUrl(properties.callbackUrl(), new ArrayList<>());
    return url == null ? URI.create("http://unset") : url;
  }

  private static byte[] serverKey(String configured, List<String> problems) {
    if (configured == null || configured.isBlank()) {
      problems.add(
          PREFIX
              + "server-key is required when job types are distributed: the scheduler's callback"
              + " key, at least "
              + CallbackSignatures.MIN_KEY_BYTES
              + " bytes");
      return null;
    }
    byte[] key = configured.getBytes(StandardCharsets.UTF_8);
    if (key.length < CallbackSignatures.MIN_KEY_BYTES) {
      problems.add(
          PREFIX
              + "server-key must be at least "
              + CallbackSignatures.MIN_KEY_BYTES
              + " bytes, was "
              + key.length);
      return null;
    }
    return key;
  }

  private static URI callbackUrl(URI configured, List<String> problems) {
    if (configured == null) {
      problems.add(
          PREFIX
              + "callback-url is required when job types are distributed: Shepherd's public base"
              + " URL, which backends call back (http://scheduler:8080)");
      return null;
    }
    if (!DistributorConfig.isHttpUrl(configured.toString())) {
      problems.add(
          PREFIX + "callback-url must be an absolute http or https URL, was '" + configured + "'");
      return null;
    }
    return configured;
  }
}
