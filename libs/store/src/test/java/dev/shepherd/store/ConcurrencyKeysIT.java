package dev.shepherd.store;

import static org.assertj.core.api.Assertions.assertThat;

import dev.shepherd.model.JobState;
import dev.shepherd.model.StatusEvent;
import dev.shepherd.testsupport.RedisOrphans;
import dev.shepherd.testsupport.ServiceEndpoints;
import dev.shepherd.testsupport.TestNames;
import dev.shepherd.testsupport.WithRealServices;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * At most a concurrency key's limit of its jobs hold a slot at once (ADR 30): a job takes one when
 * it is dispatched and gives it up when its attempt ends (an outcome, a retry, a lease taken back,
 * a cancel); a job that finds none free waits, without an outbox entry, and the oldest waiting job
 * gets the next free slot.
 */
@WithRealServices
class ConcurrencyKeysIT {

  private static final Duration TTL = StoreFixture.TTL;
  private static final Duration BACKOFF = Duration.ofSeconds(5);

  private StoreFixture fixture;
  private Store store;

  @BeforeEach
  void connect(ServiceEndpoints endpoints, TestNames names) {
    fixture = new StoreFixture(endpoints, names);
    store = fixture.store;
  }

  @AfterEach
  void cleanUp() {
    fixture.close();
  }

  private NewJob job(String key, int limit) {
    return new NewJob("demo.noop", "default", "{}", null, null, 3).withConcurrencyKey(key, limit);
  }

  /** Jobs of {@code key}, each submitted a second after the one before. */
  private List<String> submit(String key, int limit, int count) {
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      ids.add(store.submissions().submit(job(key, limit)).jobId());
      fixture.clock.advance(Duration.ofSeconds(1));
    }
    return ids;
  }

  private List<String> dispatchDue() {
    return fixture.dispatchAllDue();
  }

  private long claim(String id, int attempt) {
    return fixture.claim(id, attempt, "w1");
  }

  private String succeed(String id, int attempt) {
    long token = claim(id, attempt);
    var event =
        new StatusEvent.Succeeded(
            id, "demo.noop", attempt, token, 1, "w1", fixture.clock.instant());
    return store.reports().report(event, BACKOFF).state();
  }

  private String failRetryably(String id, int attempt) {
    long token = claim(id, attempt);
    var event =
        new StatusEvent.Failed(
            id, "demo.noop", attempt, token, 1, "w1", fixture.clock.instant(), "busy", true);
    return store.reports().report(event, BACKOFF).state();
  }

  private List<String> active(String key) {
    return List.copyOf(fixture.redis.opsForZSet().range(store.keys().keyActive(key), 0, -1));
  }

  @Test
  void aKeyRunsAtMostItsLimitAndEachEndedAttemptGivesItsSlotToTheOldestWaitingJob() {
    List<String> j = submit("db-7", 2, 5);
    String other = store.submissions().submit(job("db-8", 2)).jobId();

    assertThat(dispatchDue()).containsOnly(j.get(0), j.get(1), other);
    assertThat(fixture.view(j.get(2)).state()).isEqualTo(JobState.SUBMITTED);

    assertThat(succeed(j.get(0), 1)).isEqualTo("SUCCEEDED");
    assertThat(dispatchDue()).containsExactly(j.get(2));

    // a retry gives its slot up too, and waits for one like the others when its backoff is over
    assertThat(failRetryably(j.get(1), 1)).isEqualTo("RETRY_WAIT");
    assertThat(dispatchDue()).containsExactly(j.get(3));
    fixture.clock.advance(BACKOFF.plusSeconds(1));
    assertThat(dispatchDue()).as("both slots are taken").isEmpty();
    assertThat(active("db-7")).containsExactlyInAnyOrder(j.get(2), j.get(3));

    // j1 was submitted before j4: the oldest waiting job gets the next slot
    assertThat(succeed(j.get(2), 1)).isEqualTo("SUCCEEDED");
    assertThat(dispatchDue()).containsExactly(j.get(1));
    assertThat(succeed(j.get(1), 2)).isEqualTo("SUCCEEDED");
    assertThat(dispatchDue()).containsExactly(j.get(4));
    assertThat(fixture.view(j.get(4)).concurrencyKey()).isEqualTo("db-7");
  }

  @Test
  void aLeaseTakenBackFromADeadWorkerGivesItsSlotToTheNextJob() {
    List<String> j = submit("db-7", 1, 2);
    assertThat(dispatchDue()).containsExactly(j.get(0));
    claim(j.get(0), 1);

    fixture.clock.advance(TTL.plusSeconds(1));
    int partition = store.keys().partitionOf(j.get(0));
    assertThat(store.leaseRecovery().reapExpiredLeases(partition, 10, BACKOFF)).hasSize(1);
    assertThat(dispatchDue()).containsExactly(j.get(1));
    assertThat(active("db-7")).containsExactly(j.get(1));
  }

  @Test
  void aCancelledJobLeavesTheWaitAndACancelledRunningJobGivesItsSlotOn() {
    List<String> j = submit("db-7", 1, 3);
    assertThat(dispatchDue()).containsExactly(j.get(0));
    claim(j.get(0), 1);

    store.cancels().cancel(j.get(1), "operator", "not needed");
    store.cancels().cancel(j.get(0), "operator", "stuck");
    assertThat(dispatchDue()).containsExactly(j.get(2));
  }

  @Test
  void aSubmissionThatReservesGetsItsEntryOnlyWhileTheKeyHasAFreeSlot() {
    var first = store.submissions().submit(job("db-7", 1), TTL);
    var second = store.submissions().submit(job("db-7", 1), TTL);

    assertThat(((SubmitOutcome.Accepted) first).reserved()).isNotNull();
    assertThat(((SubmitOutcome.Accepted) second).reserved()).isNull();
    assertThat(store.queries().outboxSize()).as("the waiting job has no outbox entry").isEqualTo(1);
  }

  @Test
  void aKeyWhoseJobsAllFinishedLeavesNothingBehind() {
    List<String> j = submit("db-7", 1, 2);
    dispatchDue();
    assertThat(succeed(j.get(0), 1)).isEqualTo("SUCCEEDED");
    dispatchDue();
    assertThat(succeed(j.get(1), 1)).isEqualTo("SUCCEEDED");

    assertThat(fixture.redis.hasKey(store.keys().keyActive("db-7"))).isFalse();
    assertThat(fixture.redis.hasKey(store.keys().keyWaiting("db-7"))).isFalse();
    assertThat(RedisOrphans.find(fixture.factory, fixture.prefix)).isEmpty();
  }
}
