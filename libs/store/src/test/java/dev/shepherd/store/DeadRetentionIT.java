package dev.shepherd.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.shepherd.model.StatusEvent;
import dev.shepherd.testsupport.ServiceEndpoints;
import dev.shepherd.testsupport.TestNames;
import dev.shepherd.testsupport.WithRealServices;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.data.redis.core.StringRedisTemplate;

/**
 * Dead-job records, and the DEAD jobs they name, expire after {@code dead-retention}; a discarded
 * record after the same time from its discard; a redrive keeps the job and its idempotency key.
 */
@WithRealServices
class DeadRetentionIT {

  private static final Duration TTL = StoreFixture.TTL;

  private final Clock clock = Clock.systemUTC();
  private StoreFixture fixture;
  private StringRedisTemplate redis;
  private String prefix;

  @BeforeEach
  void connect(ServiceEndpoints endpoints, TestNames names) {
    fixture = new StoreFixture(endpoints, names);
    redis = fixture.redis;
    prefix = fixture.prefix;
  }

  @AfterEach
  void cleanUp() {
    fixture.close();
  }

  private Store store(Duration retention, Duration deadRetention) {
    return fixture.store(new StoreSettings(prefix, 2, retention, deadRetention), clock);
  }

  @Test
  void deadJobsAndTheirRecordsExpireAfterTheDeadRetentionNotTheJobRetention() {
    Store store = store(Duration.ofDays(1), Duration.ofSeconds(1));
    String id = killed(store, "key-" + prefix);
    String input = store.deadJobs().recordDead(null, null, "malformed", "submit", "{oops").id();
    String base = store.keys().base(store.keys().partitionOf(id));
    assertThat(redis.getExpire(base + "deadrec:" + id)).isBetween(0L, 1L);
    assertThat(redis.getExpire(base + "job:" + id)).isBetween(0L, 1L);
    String inputBase = store.keys().base(store.keys().partitionOf(input));
    assertThat(redis.getExpire(inputBase + "deadrec:" + input)).isBetween(0L, 1L);

    await()
        .atMost(Duration.ofSeconds(30))
        .untilAsserted(
            () -> {
              assertThat(store.deadJobs().findDead(id)).isEmpty();
              assertThat(store.deadJobs().findDead(input)).isEmpty();
              assertThat(store.queries().find(id)).isEmpty();
              assertThat(store.queries().findIdByIdempotencyKey("key-" + prefix)).isEmpty();
            });
  }

  @Test
  void aDiscardedRecordExpiresAfterTheDeadRetentionFromItsDiscard() {
    Store store = store(Duration.ofDays(1), Duration.ofHours(1));
    String input = store.deadJobs().recordDead(null, null, "malformed", "submit", "{oops").id();
    assertThat(store.deadJobs().discardDead(input, "ops")).isTrue();
    String key = store.keys().base(store.keys().partitionOf(input)) + "deadrec:" + input;
    assertThat(redis.getExpire(key)).isBetween(3500L, 3600L);
    assertThat(store.deadJobs().listDiscarded(10)).extracting("id").containsExactly(input);
  }

  @Test
  void aRedriveKeepsTheJobAndItsIdempotencyKeyForGoodAndLeavesNoRecordIndexed() {
    Store store = store(Duration.ofDays(1), Duration.ofDays(1));
    String id = killed(store, "key-" + prefix);
    assertThat(store.deadJobs().discardDead(id, "ops")).isTrue();
    assertThat(store.deadJobs().redrive(id, "ops")).isEqualTo(DeadJobs.RedriveOutcome.REDRIVEN);
    String base = store.keys().base(store.keys().partitionOf(id));
    for (String key : List.of(base + "job:" + id, base + "idem:key-" + prefix)) {
      assertThat(redis.getExpire(key)).as(key).isEqualTo(-1L);
    }
    assertThat(redis.opsForZSet().score(base + "discarded", id)).isNull();
    assertThat(redis.opsForZSet().score(base + "dead", id)).isNull();
  }

  /** A job that failed permanently on its only attempt. */
  private String killed(Store store, String idempotencyKey) {
    String id =
        store
            .submissions()
            .submit(new NewJob("demo.noop", "default", "{}", idempotencyKey, null, 1))
            .jobId();
    int partition = store.keys().partitionOf(id);
    DueEntry entry =
        store.outbox().reserveDue(partition, 100, TTL).stream()
            .filter(e -> e.jobId().equals(id))
            .findFirst()
            .orElseThrow();
    store.outbox().markDispatched(partition, List.of(entry));
    long token = ((ClaimResult.Claimed) store.leases().claim(id, 1, "w", TTL)).fencingToken();
    store
        .reports()
        .report(
            new StatusEvent.Failed(id, "demo.noop", 1, token, 1, "w", clock.instant(), "no", false),
            Duration.ZERO);
    return id;
  }
}
