package dev.shepherd.store;

import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import org.springframework.data.redis.core.StringRedisTemplate;

/**
 * Builds every store type from one Redis connection, one set of settings, one clock and one meter
 * registry, sharing the loaded scripts and the key builder. Give each caller only the type it uses;
 * building is cheap, and the scripts are loaded once here.
 *
 * <pre>{@code
 * Store store = Store.of(redis, StoreSettings.defaults("shepherd"), Clock.systemUTC(), meters);
 * new Dispatcher(store.outbox(), topology, publisher, 100, Duration.ofSeconds(30), meters);
 * }</pre>
 */
public record Store(
    StoreSettings settings,
    Keys keys,
    Clock clock,
    Submissions submissions,
    Outbox outbox,
    Leases leases,
    Reports reports,
    Cancels cancels,
    Retries retries,
    LeaseRecovery leaseRecovery,
    DeadJobs deadJobs,
    Indexes indexes,
    JobQueries queries) {

  /**
   * Every store type on {@code redis}, every script call through it; script calls are counted on
   * {@code meters}.
   */
  public static Store of(
      StringRedisTemplate redis, StoreSettings settings, Clock clock, MeterRegistry meters) {
    return of(redis, BlockingRedis.OFF, settings, clock, meters);
  }

  /**
   * Every store type on {@code redis}, the job path's script calls through {@code blocking} (the
   * caller closes it after the store's last use; {@link BlockingRedis#OFF}: through {@code redis}).
   */
  public static Store of(
      StringRedisTemplate redis,
      BlockingRedis blocking,
      StoreSettings settings,
      Clock clock,
      MeterRegistry meters) {
    Keys keys = new Keys(settings);
    var context =
        new StoreContext(
            redis,
            settings,
            keys,
            clock,
            new ScriptRunner(redis, blocking, keys, new Scripts(settings), meters, settings));
    return new Store(
        settings,
        keys,
        clock,
        new Submissions(context),
        new Outbox(context),
        new Leases(context),
        new Reports(context),
        new Cancels(context),
        new Retries(context),
        new LeaseRecovery(context),
        new DeadJobs(context),
        new Indexes(context),
        new JobQueries(context));
  }
}
