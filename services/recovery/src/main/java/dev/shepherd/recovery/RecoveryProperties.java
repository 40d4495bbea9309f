package dev.shepherd.recovery;

import dev.shepherd.engine.recovery.LostWorkers;
import dev.shepherd.engine.recovery.StaleQueued;
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
 * @param staleQueuedBatchSize such jobs published again per partition and pool per pass
 * @param trimInterval how often recovery drops index entries of jobs and dead-job records that
 *     their retention expired (also once at start-up)
 * @param trimBatchSize index entries looked at per script call of the trim pass
 * @param overCapacityGrace a worker holding more leases than its capacity loses only attempts it
 *     has held longer than this: one that published an outcome claims its next job before the
 *     status-tracker applied the outcome and released the lease, so it briefly holds one more (not
 *     negative)
 * @param errorBackoff the wait after a failed pass of the reaper, the timeout pass and the
 *     lost-worker pass (Redis or the broker down) before the next one
 * @param housekeepingErrorBackoff the same for the stale-queued and trim passes
 * @param deadLetterPrefetch unacked dead-lettered messages the dead-letter consumer holds
 */
@ConfigurationProperties("shepherd.recovery")
public record RecoveryProperties(
    Duration reapInterval,
    Integer reapBatchSize,
    PodWatchSettings podWatch,
    Duration scheduleToStartTimeout,
    Duration staleQueuedInterval,
    Integer staleQueuedBatchSize,
    Duration trimInterval,
    Integer trimBatchSize,
    Duration overCapacityGrace,
    Duration errorBackoff,
    Duration housekeepingErrorBackoff,
    Integer deadLetterPrefetch) {

  private static final String PREFIX = "shepherd.recovery.";

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
    staleQueuedBatchSize =
        atLeastOne(
            "stale-queued-batch-size",
            staleQueuedBatchSize == null ? StaleQueued.DEFAULT_BATCH_SIZE : staleQueuedBatchSize);
    trimInterval = trimInterval == null ? Duration.ofMinutes(1) : trimInterval;
    if (!trimInterval.isPositive()) {
      throw new IllegalArgumentException("shepherd.recovery.trim-interval must be positive");
    }
    trimBatchSize = atLeastOne("trim-batch-size", trimBatchSize == null ? 500 : trimBatchSize);
    reapInterval = reapInterval == null ? Duration.ofMillis(500) : reapInterval;
    reapBatchSize = reapBatchSize == null ? 100 : reapBatchSize;
    overCapacityGrace =
        overCapacityGrace == null ? LostWorkers.DEFAULT_OVER_CAPACITY_GRACE : overCapacityGrace;
    if (overCapacityGrace.isNegative()) {
      throw new IllegalArgumentException(
          PREFIX + "over-capacity-grace must not be negative, was " + overCapacityGrace);
    }
    errorBackoff =
        positive("error-backoff", errorBackoff == null ? Duration.ofSeconds(1) : errorBackoff);
    housekeepingErrorBackoff =
        positive(
            "housekeeping-error-backoff",
            housekeepingErrorBackoff == null ? Duration.ofSeconds(5) : housekeepingErrorBackoff);
    deadLetterPrefetch =
        atLeastOne("dead-letter-prefetch", deadLetterPrefetch == null ? 50 : deadLetterPrefetch);
  }

  private static Duration positive(String name, Duration value) {
    if (!value.isPositive()) {
      throw new IllegalArgumentException(PREFIX + name + " must be positive, was " + value);
    }
    return value;
  }

  private static int atLeastOne(String name, int value) {
    if (value < 1) {
      throw new IllegalArgumentException(PREFIX + name + " must be >= 1, was " + value);
    }
    return value;
  }
}
