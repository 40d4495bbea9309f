package dev.shepherd.recovery;

import java.time.Duration;
import org.springframework.boot.context.properties.ConfigurationProperties;

/**
 * The recovery service's settings ({@code shepherd.recovery.*}).
 *
 * @param reapInterval how often the reaper looks for expired leases when it found none last time
 * @param reapBatchSize expired leases taken back per partition per pass
 */
@ConfigurationProperties("shepherd.recovery")
public record RecoveryProperties(Duration reapInterval, Integer reapBatchSize) {

  public RecoveryProperties {
    reapInterval = reapInterval == null ? Duration.ofMillis(500) : reapInterval;
    reapBatchSize = reapBatchSize == null ? 100 : reapBatchSize;
  }
}
