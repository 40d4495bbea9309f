package dev.shepherd.engine.dispatch;

import dev.shepherd.model.MetricNames;
import dev.shepherd.store.JobQueries;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;

/** The outbox as gauges: how many entries wait, and how late the earliest due one is. */
public final class OutboxGauges {

  private OutboxGauges() {}

  public static void register(JobQueries queries, Clock clock, MeterRegistry meters) {
    Gauge.builder(MetricNames.OUTBOX_SIZE, queries, JobQueries::outboxSize)
        .description("outbox entries waiting: due, delayed or reserved by a dispatcher")
        .register(meters);
    Gauge.builder(MetricNames.OUTBOX_OLDEST_AGE, queries, s -> lateness(s.earliestDue(), clock))
        .description("how far the earliest outbox entry is past its due time")
        .baseUnit("seconds")
        .register(meters);
  }

  static double lateness(Instant due, Clock clock) {
    if (due == null) {
      return 0;
    }
    Duration late = Duration.between(due, clock.instant());
    return late.isNegative() ? 0 : late.toMillis() / 1000.0;
  }
}
