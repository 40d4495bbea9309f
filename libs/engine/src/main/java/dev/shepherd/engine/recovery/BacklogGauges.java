package dev.shepherd.engine.recovery;

import dev.shepherd.model.MetricNames;
import dev.shepherd.model.WorkerView;
import dev.shepherd.store.JobQueries;
import dev.shepherd.store.WorkerRegistry;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.List;

/**
 * What recovery sees as gauges: per pool the jobs waiting and the age of the oldest, the ordering
 * keys down and the longest down, the leases held, and the workers by pool and state. Read from
 * Redis at scrape time. Every replica of recovery exports the same values, so dashboards, alerts
 * and autoscalers aggregate them with {@code max}, never {@code sum}.
 */
public final class BacklogGauges {

  private BacklogGauges() {}

  public static void register(
      JobQueries queries,
      WorkerRegistry workers,
      Collection<String> pools,
      Clock clock,
      MeterRegistry meters) {
    register(queries, workers, new KnownPools(pools, null, clock, Duration.ZERO), clock, meters);
  }

  /**
   * Registers the gauges, those by pool for each pool {@code pools} knows now and for each one that
   * appears later (a pool a worker announced, ADR 35).
   */
  public static void register(
      JobQueries queries,
      WorkerRegistry workers,
      KnownPools pools,
      Clock clock,
      MeterRegistry meters) {
    var down = new Cached<>(queries::orderingKeysDownSince, clock);
    Gauge.builder(MetricNames.ORDERING_KEYS_DOWN, down, d -> d.get().size())
        .description("ordering keys that are DOWN: their head failed and waits for its retry")
        .strongReference(true)
        .register(meters);
    Gauge.builder(
            MetricNames.ORDERING_KEYS_DOWN_OLDEST_AGE,
            down,
            d -> age(d.get().stream().min(Instant::compareTo).orElse(null), clock))
        .description("how long the ordering key down the longest has been down")
        .strongReference(true)
        .baseUnit("seconds")
        .register(meters);
    Gauge.builder(MetricNames.LEASES_HELD, queries, JobQueries::leasesHeld)
        .description("leases held right now")
        .register(meters);
    var registered = new Cached<>(workers::list, clock);
    pools.forEachPool(pool -> registerPool(pool, queries, registered, clock, meters));
  }

  private static void registerPool(
      String pool,
      JobQueries queries,
      Cached<List<WorkerView>> registered,
      Clock clock,
      MeterRegistry meters) {
    var backlog = new Cached<>(() -> queries.backlog(pool), clock);
    Gauge.builder(MetricNames.QUEUE_DEPTH, backlog, b -> b.get().depth())
        .description("jobs QUEUED in the pool and not yet claimed")
        .strongReference(true) // the cache lives only in the gauge
        .tag(MetricNames.TAG_POOL, pool)
        .register(meters);
    Gauge.builder(
            MetricNames.QUEUE_OLDEST_AGE,
            queries,
            s -> age(s.backlog(pool).oldestQueuedAt(), clock))
        .description("how long the oldest QUEUED job of the pool has waited")
        .strongReference(true)
        .tag(MetricNames.TAG_POOL, pool)
        .baseUnit("seconds")
        .register(meters);
    // by pool too, so that "jobs wait in pool X and no worker of X is active" can be said
    for (String state : List.of(WorkerView.ACTIVE, WorkerView.DRAINING, WorkerView.LOST)) {
      Gauge.builder(
              MetricNames.WORKERS,
              registered,
              w ->
                  w.get().stream()
                      .filter(v -> state.equals(v.state()) && pool.equals(v.pool()))
                      .count())
          .description("registered workers by pool and state")
          .strongReference(true)
          .tag(MetricNames.TAG_POOL, pool)
          .tag("state", state)
          .register(meters);
    }
  }

  /**
   * A value read from Redis at most once a second: a scrape asks for depth and age of every pool
   * and for every worker state, and each of those would otherwise walk every partition again.
   */
  static final class Cached<T> {
    private final java.util.function.Supplier<T> source;
    private final Clock clock;
    private T value;
    private Instant readAt = Instant.MIN;

    Cached(java.util.function.Supplier<T> source, Clock clock) {
      this.source = source;
      this.clock = clock;
    }

    synchronized T get() {
      Instant now = clock.instant();
      if (value == null || Duration.between(readAt, now).toMillis() >= 1000) {
        value = source.get();
        readAt = now;
      }
      return value;
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
