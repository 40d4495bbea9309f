package dev.shepherd.engine.recovery;

import dev.shepherd.model.MetricNames;
import dev.shepherd.model.WorkerView;
import dev.shepherd.store.JobStore;
import dev.shepherd.store.WorkerRegistry;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.List;

/**
 * What recovery sees as gauges: per pool the jobs waiting and the age of the oldest, the leases
 * held, and the workers by state. Read from Redis at scrape time.
 */
public final class BacklogGauges {

  private BacklogGauges() {}

  public static void register(
      JobStore store,
      WorkerRegistry workers,
      Collection<String> pools,
      Clock clock,
      MeterRegistry meters) {
    for (String pool : pools) {
      Gauge.builder(MetricNames.QUEUE_DEPTH, store, s -> s.backlog(pool).depth())
          .description("jobs QUEUED in the pool and not yet claimed")
          .tag(MetricNames.TAG_POOL, pool)
          .register(meters);
      Gauge.builder(
              MetricNames.QUEUE_OLDEST_AGE,
              store,
              s -> age(s.backlog(pool).oldestQueuedAt(), clock))
          .description("how long the oldest QUEUED job of the pool has waited")
          .tag(MetricNames.TAG_POOL, pool)
          .baseUnit("seconds")
          .register(meters);
    }
    Gauge.builder(MetricNames.LEASES_HELD, store, JobStore::leasesHeld)
        .description("leases held right now")
        .register(meters);
    for (String state : List.of(WorkerView.ACTIVE, WorkerView.DRAINING, WorkerView.LOST)) {
      Gauge.builder(
              MetricNames.WORKERS,
              workers,
              w -> w.list().stream().filter(v -> state.equals(v.state())).count())
          .description("registered workers by state")
          .tag("state", state)
          .register(meters);
    }
  }

  static double age(Instant since, Clock clock) {
    if (since == null) {
      return 0;
    }
    Duration age = Duration.between(since, clock.instant());
    return age.isNegative() ? 0 : age.toMillis() / 1000.0;
  }
}
