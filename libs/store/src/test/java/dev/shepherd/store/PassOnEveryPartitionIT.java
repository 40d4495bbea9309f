package dev.shepherd.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.shepherd.model.JobState;
import dev.shepherd.model.JobTimeouts;
import dev.shepherd.testsupport.PrivateRedis;
import dev.shepherd.testsupport.ServiceEndpoints;
import dev.shepherd.testsupport.SettableClock;
import dev.shepherd.testsupport.TestNames;
import dev.shepherd.testsupport.WithRealServices;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.dao.DataAccessException;
import org.springframework.data.redis.core.StringRedisTemplate;

/**
 * The recovery passes' calls on every partition at once ({@link ScriptRunner#runOnEvery}): every
 * partition's reply reaches the caller, in partition order, one partition's failure hides none of
 * the others', and a script Redis forgot is sent whole. The module runs this class on a Redis
 * Cluster too (its {@code redis-cluster} execution), where the four partitions' calls go to
 * different masters.
 */
@WithRealServices
class PassOnEveryPartitionIT {

  private static final Duration TTL = StoreFixture.TTL;

  private StoreFixture fixture;

  @BeforeEach
  void connect(ServiceEndpoints endpoints, TestNames names) {
    fixture = new StoreFixture(endpoints, names);
  }

  @AfterEach
  void cleanUp() {
    fixture.close();
  }

  /**
   * Expired leases in every partition are all taken back by one pass, and each partition's reply is
   * handed over once, in partition order. A pass that read only the first reply, or gave one
   * partition's reply twice, fails here.
   */
  @Test
  void onePassReapsTheExpiredLeasesOfEveryPartition() {
    Set<String> claimed = claimedInEveryPartition(fixture, 3);
    fixture.clock.advance(TTL.plusSeconds(1));

    List<List<ReapedLease>> replies = new ArrayList<>();
    fixture.store.leaseRecovery().reapExpiredLeases(0, 10, () -> Duration.ZERO, replies::add);

    assertThat(replies).as("one reply per partition").hasSize(4);
    for (int p = 0; p < 4; p++) {
      int partition = p;
      assertThat(replies.get(p))
          .as("partition %d's reply, in its place", p)
          .isNotEmpty()
          .allSatisfy(
              r -> assertThat(fixture.store.keys().partitionOf(r.jobId())).isEqualTo(partition));
    }
    assertThat(replies.stream().flatMap(List::stream).map(ReapedLease::jobId))
        .containsExactlyInAnyOrderElementsOf(claimed);
    assertThat(claimed)
        .allSatisfy(id -> assertThat(fixture.view(id).state()).isEqualTo(JobState.RETRY_WAIT));
  }

  /**
   * The dispatcher's sweep reserves the due entries of every partition in one round: each
   * partition's entries reach the caller once, empty partitions included, and are hidden from the
   * next sweep.
   */
  @Test
  void oneSweepReservesTheDueEntriesOfEveryPartition() {
    Set<String> submitted = new HashSet<>();
    int[] inPartition = new int[4];
    while (java.util.Arrays.stream(inPartition).min().orElseThrow() < 2) {
      String id = fixture.submitted(JobTimeouts.NONE);
      submitted.add(id);
      inPartition[fixture.store.keys().partitionOf(id)]++;
    }

    List<Integer> calls = new ArrayList<>();
    List<String> reserved = new ArrayList<>();
    fixture
        .store
        .outbox()
        .reserveDueInEvery(
            100,
            TTL,
            exhausted -> {},
            (due, p) -> {
              calls.add(p);
              due.forEach(
                  e -> {
                    assertThat(fixture.store.keys().partitionOf(e.jobId())).isEqualTo(p);
                    reserved.add(e.jobId());
                  });
            });

    assertThat(calls).containsExactly(0, 1, 2, 3);
    assertThat(reserved).containsExactlyInAnyOrderElementsOf(submitted);
    List<String> again = new ArrayList<>();
    fixture
        .store
        .outbox()
        .reserveDueInEvery(
            100, TTL, exhausted -> {}, (due, p) -> due.forEach(e -> again.add(e.jobId())));
    assertThat(again).as("reserved entries stay hidden").isEmpty();
  }

  /**
   * A pass from partition 2 calls partitions 2 and 3 only: the reaper and the timeout pass call the
   * first partition alone, then the others together.
   */
  @Test
  void aPassFromAPartitionLeavesThoseBeforeIt() {
    Set<String> claimed = claimedInEveryPartition(fixture, 1);
    fixture.clock.advance(TTL.plusSeconds(1));

    List<Integer> partitions = new ArrayList<>();
    fixture
        .store
        .leaseRecovery()
        .reapExpiredLeases(
            2,
            10,
            () -> Duration.ZERO,
            reaped ->
                reaped.forEach(r -> partitions.add(fixture.store.keys().partitionOf(r.jobId()))));

    assertThat(partitions).containsExactly(2, 3);
    assertThat(claimed.stream().filter(id -> fixture.store.keys().partitionOf(id) < 2))
        .allSatisfy(id -> assertThat(fixture.view(id).state()).isEqualTo(JobState.RUNNING));
  }

  /**
   * A partition whose call fails (its lease index is not a sorted set) is thrown, as Spring's calls
   * translate Redis's errors, but only after every other partition's reply was given.
   */
  @Test
  void aFailedPartitionIsThrownAfterTheOthersRepliesWereGiven() {
    Set<String> claimed = claimedInEveryPartition(fixture, 1);
    fixture.clock.advance(TTL.plusSeconds(1));
    String broken = fixture.store.keys().base(1) + "leases";
    fixture.redis.delete(broken);
    fixture.redis.opsForValue().set(broken, "not a sorted set");

    List<ReapedLease> reaped = new ArrayList<>();
    assertThatThrownBy(
            () ->
                fixture
                    .store
                    .leaseRecovery()
                    .reapExpiredLeases(0, 10, () -> Duration.ZERO, reaped::addAll))
        .isInstanceOf(DataAccessException.class)
        .hasStackTraceContaining("WRONGTYPE");

    assertThat(reaped.stream().map(r -> fixture.store.keys().partitionOf(r.jobId())))
        .as("the partitions whose calls succeeded, 2 and 3 after the failed 1 too")
        .containsExactly(0, 2, 3);
    assertThat(reaped).hasSize(claimed.size() - 1);
  }

  /** Redis that forgot the scripts (restarted, flushed) is sent each one whole, and answers. */
  @Test
  void aScriptRedisForgotIsSentWhole() {
    try (var redis = PrivateRedis.launch()) {
      var endpoints = ServiceEndpoints.of(redis);
      passesOn(
          endpoints,
          store -> {
            assertThat(redis.command("SCRIPT", "FLUSH")).isEqualTo("+OK");
            assertThat(redis.command("CONFIG", "RESETSTAT")).isEqualTo("+OK");
          });
      assertThat(redis.command("INFO", "commandstats"))
          .as("the passes after the flush sent their scripts whole")
          .contains("cmdstat_eval:");
    }
  }

  /**
   * On a store of its own over {@code endpoints}: jobs claimed in every partition, {@code before}
   * run, then one reaping pass takes back every expired lease and the lease holders pass sees none
   * left.
   */
  private static void passesOn(
      ServiceEndpoints endpoints, java.util.function.Consumer<Store> before) {
    var factory = endpoints.newRedisConnectionFactory();
    try {
      var clock = new SettableClock(Instant.parse("2026-01-01T00:00:00Z"));
      var store =
          Store.of(
              new StringRedisTemplate(factory),
              new StoreSettings("passes", 4, Duration.ofDays(1)),
              clock,
              new SimpleMeterRegistry());
      Set<String> claimed = new HashSet<>();
      for (int i = 0; i < 40; i++) {
        String id =
            store
                .submissions()
                .submit(new NewJob("demo.noop", "default", "{}", null, null, 3))
                .jobId();
        int partition = store.keys().partitionOf(id);
        store.outbox().markDispatched(partition, store.outbox().reserveDue(partition, 10, TTL));
        store.leases().claim(id, 1, "w1", TTL);
        claimed.add(id);
      }
      assertThat(store.leaseRecovery().heldLeases().get("w1")).hasSize(claimed.size());
      before.accept(store);
      clock.advance(TTL.plusSeconds(1));

      List<String> reaped = new ArrayList<>();
      store
          .leaseRecovery()
          .reapExpiredLeases(
              0, 50, () -> Duration.ZERO, r -> r.forEach(l -> reaped.add(l.jobId())));

      assertThat(reaped).containsExactlyInAnyOrderElementsOf(claimed);
      assertThat(store.leaseRecovery().heldLeases()).isEmpty();
    } finally {
      factory.destroy();
    }
  }

  /** {@code each} jobs claimed by one worker in every one of the fixture's four partitions. */
  private static Set<String> claimedInEveryPartition(StoreFixture fixture, int each) {
    int[] inPartition = new int[fixture.store.keys().partitions()];
    Set<String> claimed = new HashSet<>();
    while (claimed.size() < each * inPartition.length) {
      String id = fixture.submitted(JobTimeouts.NONE);
      int p = fixture.store.keys().partitionOf(id);
      fixture.dispatched(id);
      if (inPartition[p] < each) {
        inPartition[p]++;
        fixture.claim(id, 1, "w1");
        claimed.add(id);
      }
    }
    return claimed;
  }
}
