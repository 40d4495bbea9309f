package dev.shepherd.statustracker;

import java.time.Duration;
import java.util.List;
import org.springframework.boot.context.properties.ConfigurationProperties;

/**
 * The status-tracker's settings ({@code shepherd.status-tracker.*}).
 *
 * @param prefetch unacked status events the consumer holds
 * @param batchSize the most status events applied before one ack acknowledges them all (1 acks each
 *     on its own)
 * @param batchWait how long the consumer waits for one more status event before it applies the
 *     batch it has; a batch is never gathered for longer than this either
 * @param workerUsers the broker users of the workers: a status message must carry one of them as
 *     its {@code user_id} (empty: any user the broker lets write the status exchange)
 */
@ConfigurationProperties("shepherd.status-tracker")
public record StatusTrackerProperties(
    Integer prefetch, Integer batchSize, Duration batchWait, List<String> workerUsers) {

  public StatusTrackerProperties {
    workerUsers = workerUsers == null ? List.of() : List.copyOf(workerUsers);
    prefetch = prefetch == null ? 250 : prefetch;
    batchSize = batchSize == null ? 100 : batchSize;
    batchWait = batchWait == null ? Duration.ofMillis(2) : batchWait;
    if (prefetch < 1) {
      throw new IllegalArgumentException("shepherd.status-tracker.prefetch must be >= 1");
    }
    if (batchSize < 1) {
      throw new IllegalArgumentException("shepherd.status-tracker.batch-size must be >= 1");
    }
    if (batchWait.toMillis() < 1) {
      throw new IllegalArgumentException(
          "shepherd.status-tracker.batch-wait must be at least 1ms, was " + batchWait);
    }
  }
}
