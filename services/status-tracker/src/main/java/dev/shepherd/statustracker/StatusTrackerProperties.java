package dev.shepherd.statustracker;

import org.springframework.boot.context.properties.ConfigurationProperties;

/**
 * The status-tracker's settings ({@code shepherd.status-tracker.*}).
 *
 * @param prefetch unacked status events the consumer holds
 */
@ConfigurationProperties("shepherd.status-tracker")
public record StatusTrackerProperties(Integer prefetch) {

  public StatusTrackerProperties {
    prefetch = prefetch == null ? 250 : prefetch;
    if (prefetch < 1) {
      throw new IllegalArgumentException("shepherd.status-tracker.prefetch must be >= 1");
    }
  }
}
