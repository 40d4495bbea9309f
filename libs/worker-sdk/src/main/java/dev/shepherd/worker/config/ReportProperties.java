package dev.shepherd.worker.config;

import org.springframework.boot.context.properties.ConfigurationProperties;

/**
 * How a worker records its attempts' status events (ADR 56).
 *
 * @param direct true (the default): the worker writes them into the store itself, through the same
 *     fenced script the status-tracker runs, and publishes to the status queue only what the store
 *     did not take (Redis unreachable); false: every event goes through the status queue to the
 *     status-tracker
 */
@ConfigurationProperties("shepherd.worker.reports")
public record ReportProperties(Boolean direct) {

  public ReportProperties {
    direct = direct == null || direct;
  }
}
