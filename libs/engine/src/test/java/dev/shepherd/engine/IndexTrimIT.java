package dev.shepherd.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.shepherd.engine.recovery.IndexTrim;
import dev.shepherd.model.JobState;
import dev.shepherd.model.StatusEvent;
import dev.shepherd.model.WorkerView;
import dev.shepherd.store.ClaimResult;
import dev.shepherd.store.DeadJobs;
import dev.shepherd.store.DueEntry;
import dev.shepherd.store.Keys;
import dev.shepherd.store.NewJob;
import dev.shepherd.store.Store;
import dev.shepherd.store.StoreSettings;
import dev.shepherd.store.WorkerRegistry;
import dev.shepherd.testsupport.RedisCleanup;
import dev.shepherd.testsupport.RedisOrphans;
import dev.shepherd.testsupport.ServiceEndpoints;
import dev.shepherd.testsupport.TestNames;
import dev.shepherd.testsupport.WithRealServices;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.data.redis.connection.DataType;
import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;
import org.springframework.data.redis.core.StringRedisTemplate;

/**
 * Redis memory is bounded (DESIGN.md invariant 8): once their retention passed, finished, dead and
 * discarded jobs and records leave no key and no index entry behind, even though no listing ever
 * reached them; what is still alive stays. Real time, as Redis expires keys by its own clock.
 */
@WithRealServices
class IndexTrimIT {

  private static final Duration RETENTION = Duration.ofSeconds(1);
  private static final Duration DEAD_RETENTION = Duration.ofSeconds(2);
  private static final Duration TTL = Duration.ofSeconds(30);

  private final Clock clock = Clock.systemUTC();
  private LettuceConnectionFactory factory;
  private StringRedisTemplate redis;
  private Store store;
  private WorkerRegistry workers;
  private String prefix;

  @BeforeEach
  void connect(ServiceEndpoints endpoints, TestNames names) {
    factory = endpoints.newRedisConnectionFactory();
    redis = new StringRedisTemplate(factory);
    prefix = names.prefix();
    var settings = new StoreSettings(prefix, 4, RETENTION, DEAD_RETENTION);
    store = Store.of(redis, settings, clock, new SimpleMeterRegistry());
    workers = new WorkerRegistry(redis, settings, clock, Duration.ofMillis(500));
  }

  @AfterEach
  void cleanUp() {
    RedisCleanup.deleteByPrefix(factory, prefix);
    factory.destroy();
  }

  @Test
  void afterTheirRetentionNothingOfFinishedDeadOrDiscardedJobsRemainsAndNothingPointsAtNothing() {
    List<String> gone = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      gone.add(succeed(run("done-" + i + "-" + prefix, 3)));
      gone.add(failPermanently(run("dead-" + i + "-" + prefix, 1)));
    }
    // entries of the RUNNING and QUEUED indexes the scripts kept before ADR 38 and ADR 51, left
    // by an upgrade
    String before = gone.getFirst();
    for (String former : List.of(Keys.FORMER_RUNNING_INDEX, Keys.FORMER_QUEUED_INDEX)) {
      redis.opsForZSet().add(store.keys().of(store.keys().partitionOf(before), former), before, 1);
    }
    String discarded = failPermanently(run(null, 1));
    assertThat(store.deadJobs().discardDead(discarded, "ops")).isTrue();
    gone.add(discarded);
    String malformed = store.deadJobs().recordDead(null, null, "malformed", "submit", "{oops").id();
    String discardedInput =
        store.deadJobs().recordDead(null, null, "malformed", "submit", "{oops").id();
    assertThat(store.deadJobs().discardDead(discardedInput, "ops")).isTrue();
    gone.addAll(List.of(malformed, discardedInput));
    String redriven = failPermanently(run("redriven-" + prefix, 1));
    assertThat(store.deadJobs().redrive(redriven, "ops"))
        .isEqualTo(DeadJobs.RedriveOutcome.REDRIVEN);
    String waiting =
        store.submissions().submit(new NewJob("demo.noop", "default", "{}", null, null, 3)).jobId();
    workers.heartbeat(
        new WorkerView(
            "silent-worker", "h", null, "default", 1, "v", WorkerView.ACTIVE, null, null, null));
    var trim = new IndexTrim(store.indexes(), workers, List.of("default"), 3);

    await()
        .atMost(Duration.ofSeconds(60))
        .pollInterval(Duration.ofMillis(250))
        .untilAsserted(
            () -> {
              trim.trimOnce();
              assertThat(mentionsOf(gone)).as("keys and index entries of expired ids").isEmpty();
              assertThat(RedisOrphans.find(factory, prefix)).isEmpty();
              assertThat(workers.list()).isEmpty();
            });
    // what is alive stays, and a redriven job's idempotency key keeps naming it
    assertThat(store.queries().find(redriven).orElseThrow().state()).isEqualTo(JobState.QUEUED);
    assertThat(store.queries().find(waiting).orElseThrow().state()).isEqualTo(JobState.SUBMITTED);
    assertThat(store.queries().findIdByIdempotencyKey("redriven-" + prefix)).contains(redriven);
    assertThat(store.queries().list(JobState.QUEUED, null, 10))
        .extracting("id")
        .containsExactly(redriven);
  }

  /** Every key under the prefix, and every sorted-set member, that names one of {@code ids}. */
  private List<String> mentionsOf(List<String> ids) {
    Set<String> names = Set.copyOf(ids);
    List<String> found = new ArrayList<>();
    for (String key : RedisOrphans.keys(factory, prefix)) {
      names.stream().filter(key::contains).forEach(id -> found.add(key));
      if (redis.type(key) == DataType.ZSET) {
        for (String member : redis.opsForZSet().range(key, 0, -1)) {
          if (names.contains(member)) {
            found.add(key + " member " + member);
          }
        }
      }
      if (key.contains(":idem:")) {
        String named = redis.opsForValue().get(key); // null once it expired after the scan
        if (named != null && names.contains(named)) {
          found.add(key);
        }
      }
    }
    return found;
  }

  /** Submits, dispatches and claims a job; returns its id and fencing token. */
  private String[] run(String idempotencyKey, int maxAttempts) {
    String id =
        store
            .submissions()
            .submit(new NewJob("demo.noop", "default", "{}", idempotencyKey, null, maxAttempts))
            .jobId();
    int partition = store.keys().partitionOf(id);
    DueEntry entry =
        store.outbox().reserveDue(partition, 1000, TTL).stream()
            .filter(e -> e.jobId().equals(id))
            .findFirst()
            .orElseThrow();
    store.outbox().markDispatched(partition, List.of(entry));
    long token = ((ClaimResult.Claimed) store.leases().claim(id, 1, "w", TTL)).fencingToken();
    var phase =
        new StatusEvent.PhaseStarted(id, "demo.noop", 1, token, 1, "w", clock.instant(), "p");
    store.reports().report(phase, Duration.ZERO);
    return new String[] {id, Long.toString(token)};
  }

  private String succeed(String[] job) {
    var done =
        new StatusEvent.Succeeded(
            job[0], "demo.noop", 1, Long.parseLong(job[1]), 2, "w", clock.instant());
    store.reports().report(done, Duration.ZERO);
    return job[0];
  }

  private String failPermanently(String[] job) {
    var failed =
        new StatusEvent.Failed(
            job[0], "demo.noop", 1, Long.parseLong(job[1]), 2, "w", clock.instant(), "no", false);
    store.reports().report(failed, Duration.ZERO);
    return job[0];
  }
}
