package dev.shepherd.worker.config;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.security.SecureRandom;
import java.time.Duration;
import org.springframework.boot.context.properties.ConfigurationProperties;

/**
 * The worker's settings ({@code shepherd.worker.*}); the lease TTL is the store's ({@code
 * shepherd.store.lease-ttl}), since every service must agree on it.
 *
 * <pre>{@code
 * shepherd:
 *   worker:
 *     pool: reports
 *     capacity: 8
 *     shutdown-grace: 60s
 * }</pre>
 *
 * @param id this worker's id, in leases, events and logs; defaults to {@code <host>-<pid>-<4 random
 *     chars>}, unique even when two workers share a host and a pid namespace
 * @param pool the worker pool whose queue it consumes (default {@code default})
 * @param capacity jobs it runs at once (default 4, at least 1)
 * @param shutdownGrace how long a stopping worker lets running jobs finish before it releases their
 *     leases (default 30s)
 * @param podName the Kubernetes pod it runs in (the chart sets it from the downward API), so
 *     recovery can release its leases the moment the pod is gone
 * @param outcomeHold how long a job's lease is still renewed after its outcome was published, while
 *     the status-tracker has not applied it yet (default 5m): a lagging or restarting tracker does
 *     not make finished jobs run again
 */
@ConfigurationProperties("shepherd.worker")
public record WorkerProperties(
    String id,
    String pool,
    Integer capacity,
    Duration shutdownGrace,
    String podName,
    Duration outcomeHold) {

  private static final String ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789";
  private static final SecureRandom RANDOM = new SecureRandom();

  public WorkerProperties {
    id = id == null || id.isBlank() ? defaultId() : id;
    pool = pool == null || pool.isBlank() ? "default" : pool;
    capacity = capacity == null ? 4 : capacity;
    shutdownGrace = shutdownGrace == null ? Duration.ofSeconds(30) : shutdownGrace;
    outcomeHold = outcomeHold == null ? Duration.ofMinutes(5) : outcomeHold;
    if (capacity < 1) {
      throw new IllegalArgumentException("shepherd.worker.capacity must be >= 1, was " + capacity);
    }
    if (id.contains("|")) {
      throw new IllegalArgumentException("shepherd.worker.id must not contain '|', was " + id);
    }
    if (shutdownGrace.isNegative()) {
      throw new IllegalArgumentException(
          "shepherd.worker.shutdown-grace must not be negative, was " + shutdownGrace);
    }
  }

  /** {@code <host>-<pid>-<4 random chars>}. */
  static String defaultId() {
    StringBuilder suffix = new StringBuilder();
    for (int i = 0; i < 4; i++) {
      suffix.append(ALPHABET.charAt(RANDOM.nextInt(ALPHABET.length())));
    }
    return host() + "-" + ProcessHandle.current().pid() + "-" + suffix;
  }

  private static String host() {
    String fromEnv = System.getenv("HOSTNAME"); // the pod name on Kubernetes
    if (fromEnv != null && !fromEnv.isBlank()) {
      return fromEnv;
    }
    try {
      return InetAddress.getLocalHost().getHostName();
    } catch (UnknownHostException e) {
      return "worker";
    }
  }
}
