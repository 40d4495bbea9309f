package dev.shepherd.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.shepherd.model.StatusEvent;
import dev.shepherd.testsupport.RedisCleanup;
import dev.shepherd.testsupport.ServiceEndpoints;
import dev.shepherd.testsupport.TestNames;
import dev.shepherd.testsupport.WithRealServices;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;
import org.springframework.data.redis.core.StringRedisTemplate;

/**
 * Dead-job records, and the DEAD jobs they name, expire after {@code dead-retention}; a discarded
 * record after the same time from its discard; a redrive keeps the job and its idempotency key.
 */
@WithRealServices
class DeadRetentionIT {

  private static final Duration TTL = Duration.ofSeconds(30);

  private final Clock clock = Clock.systemUTC();
  private LettuceConnectionFactory factory;
  private StringRedisTemplate redis;
  private String prefix;

  @BeforeEach
  void connect(ServiceEndpoints endpoints, TestNames names) {
    factory = endpoints.newRedisConnectionFactory();
    redis = new StringRedisTemplate(factory);
    prefix = names.prefix();
  }

  @AfterEach
  void cleanUp() {
    RedisCleanup.deleteByPrefix(factory, prefix);
    factory.destroy();
  }

  private JobStore store(Duration retention, Duration deadRetention) {
    return new JobStore(redis, new StoreSettings(prefix, 2, retention, deadRetention), clock);
  }

  @Test
  void deadJobsAndTheirRecordsExpireAfterTheDeadRetentionNotTheJobRetention() {
    JobStore store = store(Duration.ofDays(1), Duration.ofSeconds(1));
    String id = killed(store, "key-" + prefix);
    String input = store.recordDead(null, null, "malformed", "submit", "{oops").id();
    String base = store.settings().base(store.partitionOf(id));
    assertThat(redis.getExpire(base + "deadrec:" + id)).isBetween(0L, 1L);
    assertThat(redis.getExpire(base + "job:" + id)).isBetween(0L, 1L);
    String inputBase = store.settings().base(store.partitionOf(input));
    assertThat(redis.getExpire(inputBase + "deadrec:" + input)).isBetween(0L, 1L);

    await()
        .atMost(Duration.ofSeconds(30))
        .untilAsserted(
            () -> {
              assertThat(store.findDead(id)).isEmpty();
              assertThat(store.findDead(input)).isEmpty();
              assertThat(store.find(id)).isEmpty();
              assertThat(store.findIdByIdempotencyKey("key-" + prefix)).isEmpty();
            });
  }

  @Test
  void aDiscardedRecordExpiresAfterTheDeadRetentionFromItsDiscard() {
    JobStore store = store(Duration.ofDays(1), Duration.ofHours(1));
    String input = store.recordDead(null, null, "malformed", "submit", "{oops").id();
    assertThat(store.discardDead(input, "ops")).isTrue();
    String key = store.settings().base(store.partitionOf(input)) + "deadrec:" + input;
    assertThat(redis.getExpire(key)).isBetween(3500L, 3600L);
    assertThat(store.listDiscarded(10)).extracting("id").containsExactly(input);
  }

  @Test
  void aRedriveKeepsTheJobAndItsIdempotencyKeyForGoodAndLeavesNoRecordIndexed() {
    JobStore store = store(Duration.ofDays(1), Duration.ofDays(1));
    String id = killed(store, "key-" + prefix);
    assertThat(store.discardDead(id, "ops")).isTrue();
    assertThat(store.redrive(id, "ops")).isEqualTo(JobStore.RedriveOutcome.REDRIVEN);
    String base = store.settings().base(store.partitionOf(id));
    for (String key : List.of(base + "job:" + id, base + "idem:key-" + prefix)) {
      assertThat(redis.getExpire(key)).as(key).isEqualTo(-1L);
    }
    assertThat(redis.opsForZSet().score(base + "discarded", id)).isNull();
    assertThat(redis.opsForZSet().score(base + "dead", id)).isNull();
  }

  /** A job that failed permanently on its only attempt. */
  private String killed(JobStore store, String idempotencyKey) {
    String id =
        store.submit(new NewJob("demo.noop", "default", "{}", idempotencyKey, null, 1)).jobId();
    int partition = store.partitionOf(id);
    DueEntry entry =
        store.reserveDue(partition, 100, TTL).stream()
            .filter(e -> e.jobId().equals(id))
            .findFirst()
            .orElseThrow();
    store.markDispatched(partition, List.of(entry));
    long token = ((ClaimResult.Claimed) store.claim(id, 1, "w", TTL)).fencingToken();
    store.report(
        new StatusEvent.Failed(id, "demo.noop", 1, token, 1, "w", clock.instant(), "no", false),
        Duration.ZERO);
    return id;
  }
}
