package dev.shepherd.store;

import dev.shepherd.model.JobTimeouts;
import dev.shepherd.model.JobView;
import dev.shepherd.testsupport.RedisCleanup;
import dev.shepherd.testsupport.ServiceEndpoints;
import dev.shepherd.testsupport.SettableClock;
import dev.shepherd.testsupport.TestNames;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;
import org.springframework.data.redis.core.StringRedisTemplate;

/**
 * A job store on the shared Redis under the test's own prefix, on a settable clock, with the steps
 * most store tests take a job through; {@link #close()} deletes every key under the prefix.
 *
 * <pre>{@code
 * fixture = new StoreFixture(endpoints, names);
 * String id = fixture.claimed(JobTimeouts.NONE, "w1");
 * }</pre>
 */
final class StoreFixture implements AutoCloseable {

  static final Duration TTL = Duration.ofSeconds(30);

  final SettableClock clock = new SettableClock(Instant.parse("2026-01-01T00:00:00Z"));
  final LettuceConnectionFactory factory;
  final StringRedisTemplate redis;

  /** The services' way of running the job path's script calls (ADR 57). */
  final BlockingRedis blocking;

  final String prefix;
  final Store store;

  /** Four partitions, finished jobs kept seven days. */
  StoreFixture(ServiceEndpoints endpoints, TestNames names) {
    this(endpoints, names, prefix -> new StoreSettings(prefix, 4, Duration.ofDays(7)));
  }

  /** A store with the settings {@code settings} makes for the test's prefix. */
  StoreFixture(
      ServiceEndpoints endpoints, TestNames names, Function<String, StoreSettings> settings) {
    factory = endpoints.newRedisConnectionFactory();
    redis = new StringRedisTemplate(factory);
    blocking = BlockingRedis.of(factory);
    prefix = names.prefix();
    store = store(settings.apply(prefix), clock);
  }

  /** Another store on the same Redis, for tests that vary the settings or need the real clock. */
  Store store(StoreSettings settings, Clock clock) {
    return Store.of(redis, blocking, settings, clock, new SimpleMeterRegistry());
  }

  /**
   * Another store on the fixture's prefix, four partitions and clock, counting on {@code meters}:
   * for tests that count its Redis calls.
   */
  Store storeCountingOn(MeterRegistry meters) {
    return Store.of(
        redis, blocking, new StoreSettings(prefix, 4, Duration.ofDays(7)), clock, meters);
  }

  /** A demo.noop job of three attempts with these timeouts, SUBMITTED. */
  String submitted(JobTimeouts timeouts) {
    return submitted(3, timeouts);
  }

  String submitted(int maxAttempts, JobTimeouts timeouts) {
    return store
        .submissions()
        .submit(new NewJob("demo.noop", "default", "{}", null, null, maxAttempts, null, timeouts))
        .jobId();
  }

  /** The job's due outbox entry published and confirmed: QUEUED. */
  String dispatched(String id) {
    int partition = store.keys().partitionOf(id);
    store.outbox().markDispatched(partition, store.outbox().reserveDue(partition, 100, TTL));
    return id;
  }

  /**
   * Every job a dispatcher would publish now, from every partition, each entry marked dispatched
   * (QUEUED) as the scheduler does after the broker's confirm; their ids.
   */
  List<String> dispatchAllDue() {
    List<String> ids = new ArrayList<>();
    for (int partition = 0; partition < store.keys().partitions(); partition++) {
      List<DueEntry> due = store.outbox().reserveDue(partition, 100, TTL);
      store.outbox().markDispatched(partition, due);
      due.forEach(e -> ids.add(e.jobId()));
    }
    return ids;
  }

  /** A new job with these timeouts, QUEUED and claimed (attempt 1) by {@code worker}. */
  String claimed(int maxAttempts, JobTimeouts timeouts, String worker) {
    String id = dispatched(submitted(maxAttempts, timeouts));
    claim(id, 1, worker);
    return id;
  }

  long claim(String id, int attempt, String worker) {
    return ((ClaimResult.Claimed) store.leases().claim(id, attempt, worker, TTL)).fencingToken();
  }

  /** The job's current fencing token, as stored. */
  long token(String id) {
    return Long.parseLong((String) redis.opsForHash().get(store.keys().job(id), "token"));
  }

  /** The key base of the job's partition, e.g. {@code <prefix>:{p03}:}. */
  String base(String id) {
    return store.keys().base(store.keys().partitionOf(id));
  }

  JobView view(String id) {
    return store.queries().find(id).orElseThrow();
  }

  @Override
  public void close() {
    RedisCleanup.deleteByPrefix(factory, prefix);
    blocking.close();
    factory.destroy();
  }
}
