package dev.shepherd.scheduler;

import java.time.Duration;
import java.util.Map;
import org.springframework.boot.context.properties.ConfigurationProperties;

/**
 * The scheduler's settings ({@code shepherd.scheduler.*}).
 *
 * @param defaultMaxAttempts attempts of a job whose type and submission set none
 * @param maxAttempts attempts per job type
 * @param dispatchBatchSize outbox entries published per partition per pass
 * @param dispatchIdlePoll how often an idle dispatcher looks for due entries (delayed jobs and
 *     retries; new submissions to this scheduler wake it at once)
 * @param dispatchVisibility how long a reserved outbox entry is hidden from other schedulers
 * @param submitConsumers consumers of the AMQP submit queue
 * @param submitPrefetch unacked submissions per consumer
 */
@ConfigurationProperties("shepherd.scheduler")
public record SchedulerProperties(
    Integer defaultMaxAttempts,
    Map<String, Integer> maxAttempts,
    Integer dispatchBatchSize,
    Duration dispatchIdlePoll,
    Duration dispatchVisibility,
    Integer submitConsumers,
    Integer submitPrefetch) {

  public SchedulerProperties {
    defaultMaxAttempts = defaultMaxAttempts == null ? 3 : defaultMaxAttempts;
    maxAttempts = maxAttempts == null ? Map.of() : Map.copyOf(maxAttempts);
    dispatchBatchSize = dispatchBatchSize == null ? 200 : dispatchBatchSize;
    dispatchIdlePoll = dispatchIdlePoll == null ? Duration.ofMillis(100) : dispatchIdlePoll;
    dispatchVisibility = dispatchVisibility == null ? Duration.ofSeconds(30) : dispatchVisibility;
    submitConsumers = submitConsumers == null ? 2 : submitConsumers;
    submitPrefetch = submitPrefetch == null ? 50 : submitPrefetch;
    if (defaultMaxAttempts < 1 || defaultMaxAttempts > 100) {
      throw new IllegalArgumentException("shepherd.scheduler.default-max-attempts must be 1..100");
    }
    maxAttempts.forEach(
        (type, n) -> {
          if (n < 1 || n > 100) {
            throw new IllegalArgumentException(
                "shepherd.scheduler.max-attempts." + type + " must be 1..100, was " + n);
          }
        });
  }
}
