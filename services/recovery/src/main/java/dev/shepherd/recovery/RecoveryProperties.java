package dev.shepherd.recovery;

import java.time.Duration;
import org.springframework.boot.context.properties.ConfigurationProperties;

/**
 * The recovery service's settings ({@code shepherd.recovery.*}).
 *
 * @param reapInterval how often the reaper looks for expired leases, and the timeout pass for
 *     attempts past their timeouts, when it found none last time
 * @param reapBatchSize expired leases taken back, and attempts timed out, per partition per pass
 * @param podWatch the Kubernetes pod watch that releases the leases of gone worker pods at once
 * @param scheduleToStartTimeout a job QUEUED longer than this without a worker starting it is
 *     published again (its work message was lost)
 * @param staleQueuedInterval how often recovery looks for such jobs (also once at start-up)
 * @param trimInterval how often recovery drops index entries of jobs and dead-job records that
 *     their retention expired (also once at start-up)
 */
@ConfigurationProperties("shepherd.recovery")
public record RecoveryProperties(
    Duration reapInterval,
    Integer reapBatchSize,
    PodWatchSettings podWatch,
    Duration scheduleToStartTimeout,
    Duration staleQueuedInterval,
    Duration trimInterval) {

  /**
   * @param enabled on in Kubernetes (the chart turns it on); off elsewhere
   * @param namespace where the worker pods run
   * @param selector label selector of the worker pods
   */
  public record PodWatchSettings(Boolean enabled, String namespace, String selector) {
    public PodWatchSettings {
      enabled = enabled != null && enabled;
      namespace = namespace == null ? "default" : namespace;
      selector = selector == null ? "app.kubernetes.io/component=worker" : selector;
    }
  }

  public RecoveryProperties {
    podWatch = podWatch == null ? new PodWatchSettings(null, null, null) : podWatch;
    scheduleToStartTimeout =
        scheduleToStartTimeout == null ? Duration.ofMinutes(5) : scheduleToStartTimeout;
    staleQueuedInterval =
        staleQueuedInterval == null ? Duration.ofSeconds(30) : staleQueuedInterval;
    trimInterval = trimInterval == null ? Duration.ofMinutes(1) : trimInterval;
    if (!trimInterval.isPositive()) {
      throw new IllegalArgumentException("shepherd.recovery.trim-interval must be positive");
    }
    reapInterval = reapInterval == null ? Duration.ofMillis(500) : reapInterval;
    reapBatchSize = reapBatchSize == null ? 100 : reapBatchSize;
  }
}
