package dev.shepherd.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.shepherd.model.JobIds;
import dev.shepherd.model.JobState;
import dev.shepherd.model.MetricNames;
import dev.shepherd.testsupport.ServiceEndpoints;
import dev.shepherd.testsupport.TestNames;
import dev.shepherd.testsupport.WithRealServices;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@link Submissions#submitAll}: the scheduler's AMQP intake stores a batch of submissions with one
 * script call per partition, and must keep what one call per job kept: each job's own outcome in
 * order, an ordering key's order, a repeated idempotency key answered with the first job, and, when
 * one partition's call fails, exactly the jobs of that call left unstored.
 */
@WithRealServices
class SubmitBatchIT {

  private static final int PARTITIONS = 4;

  private StoreFixture fixture;
  private SimpleMeterRegistry meters;
  private Store store;

  @BeforeEach
  void connect(ServiceEndpoints endpoints, TestNames names) {
    fixture = new StoreFixture(endpoints, names);
    meters = new SimpleMeterRegistry();
    store = fixture.storeCountingOn(meters);
  }

  @AfterEach
  void cleanUp() {
    fixture.close();
  }

  /**
   * A submit call that reaches Redis twice: Lettuce sends again what it had written when its
   * connection dropped, and the blocking cluster client tries again a call whose reply timed out,
   * so submit.lua can run a second time with the same arguments after the job moved on. The job
   * must stay one job where it got to, with no second outbox entry: otherwise it would run twice.
   */
  @Test
  void aSubmitCallThatReachesRedisAgainLeavesTheJobWhereItGotTo() {
    List<NewJob> jobs = List.of(job("{\"n\":1}"));
    long now = fixture.clock.millis();
    List<Submissions.Call> calls = store.submissions().calls(jobs, null, now);
    String id = store.submissions().send(jobs, calls, now).outcomes().getFirst().jobId();
    int partition = store.keys().partitionOf(id);
    fixture.dispatched(id);
    var claimed = store.leases().claim(id, 1, "w1", StoreFixture.TTL);
    assertThat(claimed).isInstanceOf(ClaimResult.Claimed.class);
    String tokenKey = "token";
    Object token = fixture.redis.opsForHash().get(store.keys().job(id), tokenKey);

    Submissions.Stored again = store.submissions().send(jobs, calls, now);

    assertThat(again.failure()).isNull();
    assertThat(again.outcomes().getFirst().jobId()).isEqualTo(id);
    assertThat(again.outcomes().getFirst().state()).isEqualTo(JobState.RUNNING);
    assertThat(fixture.redis.opsForHash().get(store.keys().job(id), "state")).isEqualTo("RUNNING");
    assertThat(fixture.redis.opsForHash().get(store.keys().job(id), tokenKey)).isEqualTo(token);
    assertThat(fixture.redis.opsForZSet().score(store.keys().of(partition, "due"), id))
        .as("a second outbox entry would run the job again")
        .isNull();
    assertThat(fixture.redis.opsForZSet().score(store.keys().of(partition, "state:SUBMITTED"), id))
        .isNull();
  }

  /** The same, sent again before anything took the job: still one job and one outbox entry. */
  @Test
  void aSubmitCallThatReachesRedisAgainAtOnceKeepsOneOutboxEntry() {
    List<NewJob> jobs = List.of(job("{\"n\":2}"));
    long now = fixture.clock.millis();
    List<Submissions.Call> calls = store.submissions().calls(jobs, Duration.ofSeconds(30), now);
    SubmitOutcome first = store.submissions().send(jobs, calls, now).outcomes().getFirst();
    assertThat(first).isInstanceOf(SubmitOutcome.Accepted.class);
    assertThat(((SubmitOutcome.Accepted) first).reserved()).isNotNull();
    int partition = store.keys().partitionOf(first.jobId());

    SubmitOutcome again = store.submissions().send(jobs, calls, now).outcomes().getFirst();

    assertThat(again.jobId()).isEqualTo(first.jobId());
    assertThat(fixture.redis.opsForZSet().size(store.keys().of(partition, "due"))).isEqualTo(1);
    assertThat(fixture.redis.opsForZSet().size(store.keys().of(partition, "jobs"))).isEqualTo(1);
    // handed to this dispatcher once: the call sent again reserves nothing for anyone
    assertThat(again).isInstanceOf(SubmitOutcome.Accepted.class);
    assertThat(((SubmitOutcome.Accepted) again).reserved()).isNull();
  }

  /**
   * A batch submitted again under the ids its first call gave it (ADR 60: the call whose reply was
   * lost may have stored it) is found, job by job, not stored twice; an id outside the partition
   * its job's key names is refused before anything is sent.
   */
  @Test
  void aBatchSubmittedAgainUnderTheIdsItWasGivenIsFoundNotStoredTwice() {
    String ordering = "order-" + fixture.prefix;
    List<NewJob> jobs = new ArrayList<>();
    IntStream.range(0, 3).forEach(i -> jobs.add(job("{\"n\":" + i + "}")));
    jobs.add(job("{\"n\":3}").withOrderingKey(ordering));
    Submissions.Stored first = store.submissions().submitAll(jobs, null);
    assertThat(first.failure()).isNull();
    assertThat(first.ids())
        .isEqualTo(first.outcomes().stream().map(SubmitOutcome::jobId).toList())
        .doesNotContainNull();

    Submissions.Stored again = store.submissions().submitAll(jobs, first.ids(), null);

    assertThat(again.failure()).isNull();
    assertThat(again.ids()).isEqualTo(first.ids());
    assertThat(again.outcomes())
        .allSatisfy(o -> assertThat(o).isInstanceOf(SubmitOutcome.Accepted.class));
    assertThat(again.outcomes().stream().map(SubmitOutcome::jobId).toList()).isEqualTo(first.ids());
    long stored = 0;
    for (int p = 0; p < store.keys().partitions(); p++) {
      stored += fixture.redis.opsForZSet().size(store.keys().of(p, "jobs"));
    }
    assertThat(stored).as("four jobs, none stored twice").isEqualTo(4);
    assertThat(store.queries().orderingKeyQueue(ordering)).hasSize(1);

    int keyed = store.keys().partitionOfKey(ordering);
    String elsewhere = dev.shepherd.model.JobIds.newId((keyed + 1) % store.keys().partitions());
    List<String> wrong = java.util.Arrays.asList(null, null, null, elsewhere);
    assertThatThrownBy(() -> store.submissions().submitAll(jobs, wrong, null))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(elsewhere);
  }

  private static NewJob job(String payload) {
    return new NewJob("demo.noop", "default", payload, null, null, 3);
  }

  @Test
  void aBatchIsStoredWithOneCallPerPartitionEachJobAnsweredInOrder() {
    String idem = "idem-" + fixture.prefix;
    String ordering = "order-" + fixture.prefix;
    List<NewJob> jobs = new ArrayList<>();
    IntStream.range(0, 5).forEach(i -> jobs.add(job("{\"n\":" + i + "}"))); // 0..4: no key
    jobs.add(new NewJob("demo.noop", "default", "{\"n\":5}", idem, null, 3)); // 5
    jobs.add(new NewJob("demo.noop", "default", "{\"n\":6}", idem, null, 3)); // 6: same key
    IntStream.range(7, 10)
        .forEach(i -> jobs.add(job("{\"n\":" + i + "}").withOrderingKey(ordering))); // 7..9

    Submissions.Stored stored = store.submissions().submitAll(jobs, null);

    assertThat(stored.failure()).isNull();
    List<SubmitOutcome> outcomes = stored.outcomes();
    assertThat(outcomes).hasSize(10);
    assertThat(outcomes.subList(0, 6)).allMatch(o -> o instanceof SubmitOutcome.Accepted);
    assertThat(outcomes.get(6))
        .as("the key's second job within one call")
        .isEqualTo(new SubmitOutcome.Duplicate(outcomes.get(5).jobId(), JobState.SUBMITTED));
    assertThat(outcomes.subList(7, 10)).allMatch(o -> o instanceof SubmitOutcome.Accepted);
    // each job stored with its own payload, so the outcomes are in the order given
    for (int i : List.of(0, 4, 5, 7, 9)) {
      assertThat(store.queries().find(outcomes.get(i).jobId()).orElseThrow().payload().toString())
          .isEqualTo("{\"n\":" + i + "}");
    }
    List<Integer> unkeyedPartitions =
        outcomes.subList(0, 5).stream()
            .map(o -> JobIds.partitionOf(o.jobId(), PARTITIONS))
            .distinct()
            .toList();
    assertThat(unkeyedPartitions).as("jobs without a key share one partition").hasSize(1);
    var partitions =
        outcomes.stream()
            .map(o -> JobIds.partitionOf(o.jobId(), PARTITIONS))
            .collect(Collectors.toSet());
    assertThat(meters.counter(MetricNames.REDIS_CALLS, "op", "submit").count())
        .as("one call per partition, not per job")
        .isEqualTo(partitions.size());
    // the ordering key's jobs keep their order: only the first is due, the others wait behind it
    List<String> due = fixture.dispatchAllDue();
    assertThat(due).contains(outcomes.get(7).jobId());
    assertThat(due).doesNotContain(outcomes.get(8).jobId(), outcomes.get(9).jobId());
  }

  @Test
  void aFailedCallLeavesExactlyItsOwnJobsUnstored() {
    String bad = "bad-" + fixture.prefix;
    int badPartition = store.keys().partitionOfKey(bad);
    // the key's idempotency entry is a hash, not a string: the script's GET on it fails
    fixture.redis.opsForHash().put(store.keys().idempotencyKey(bad), "not", "a string");
    String elsewhere =
        IntStream.range(0, 100)
            .mapToObj(i -> "ok-" + i + "-" + fixture.prefix)
            .filter(k -> store.keys().partitionOfKey(k) != badPartition)
            .findFirst()
            .orElseThrow();
    List<NewJob> jobs =
        List.of(
            job("{\"n\":0}").withOrderingKey(elsewhere),
            new NewJob("demo.noop", "default", "{\"n\":1}", bad, null, 3),
            job("{\"n\":2}").withOrderingKey(elsewhere));

    Submissions.Stored stored = store.submissions().submitAll(jobs, null);

    assertThat(stored.failure()).isNotNull().hasStackTraceContaining("WRONGTYPE");
    assertThat(stored.outcomes().get(1)).isNull();
    assertThat(stored.outcomes().get(0)).isInstanceOf(SubmitOutcome.Accepted.class);
    assertThat(stored.outcomes().get(2)).isInstanceOf(SubmitOutcome.Accepted.class);
    assertThat(store.queries().find(stored.outcomes().get(2).jobId())).isPresent();
    assertThatThrownBy(() -> store.submissions().submit(jobs.get(1)))
        .as("one job's failed call is thrown")
        .hasStackTraceContaining("WRONGTYPE");
  }
}
