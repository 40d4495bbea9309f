package dev.shepherd.worker.config;

import java.security.SecureRandom;
import java.time.Duration;
import org.springframework.boot.context.properties.ConfigurationProperties;

/**
 * The worker's settings ({@code shepherd.worker.*}).
 *
 * @param id this worker's id; defaults to {@code <host>-<pid>-<random>}
 * @param pool the worker pool whose queue it consumes
 * @param capacity jobs it runs at once
 * @param shutdownGrace how long a stopping worker lets running jobs finish
 * @param podName the Kubernetes pod it runs in (the chart sets it from the downward API)
 */
@ConfigurationProperties("shepherd.worker")
public record WorkerProperties(
    String id, String pool, Integer capacity, Duration shutdownGrace, String podName) {

  public WorkerProperties {
    id = id == null || id.isBlank() ? defaultId() : id;
    pool = pool == null || pool.isBlank() ? "default" : pool;
    capacity = capacity == null ? 4 : capacity;
    shutdownGrace = shutdownGrace == null ? Duration.ofSeconds(30) : shutdownGrace;
    if (capacity < 1) {
      throw new IllegalArgumentException("shepherd.worker.capacity must be >= 1, was " + capacity);
    }
  }

  private static String defaultId() {
    String host = System.getenv().getOrDefault("HOSTNAME", "worker");
    String alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
    var random = new SecureRandom();
    StringBuilder suffix = new StringBuilder();
    for (int i = 0; i < 4; i++) {
      suffix.append(alphabet.charAt(random.nextInt(alphabet.length())));
    }
    return host + "-" + ProcessHandle.current().pid() + "-" + suffix;
  }
}
