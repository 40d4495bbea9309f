package dev.shepherd.store;

import static org.assertj.core.api.Assertions.assertThat;

import dev.shepherd.model.DeadJob;
import dev.shepherd.model.JobState;
import dev.shepherd.model.OrderingKeyView;
import dev.shepherd.model.StatusEvent;
import dev.shepherd.testsupport.RedisOrphans;
import dev.shepherd.testsupport.ServiceEndpoints;
import dev.shepherd.testsupport.TestNames;
import dev.shepherd.testsupport.WithRealServices;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Jobs with one ordering key run one at a time, in the order they were submitted (ADR 29): only the
 * key's head has an outbox entry or may be claimed, a retry or a lease taken back keeps the head,
 * and a finished head lets the next go. Keys and unkeyed jobs do not wait for each other.
 */
@WithRealServices
class OrderingKeysIT {

  private static final Duration TTL = StoreFixture.TTL;
  private static final Duration BACKOFF = Duration.ofSeconds(5);
  private static final ClaimResult.Reason NOT_CLAIMABLE = ClaimResult.Reason.NOT_CLAIMABLE;

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

  private String submit(String orderingKey) {
    return submit(orderingKey, null);
  }

  private String submit(String orderingKey, Instant notBefore) {
    return store
        .submissions()
        .submit(
            new NewJob("demo.noop", "default", "{}", null, notBefore, 3)
                .withOrderingKey(orderingKey))
        .jobId();
  }

  /** A job of a type whose policy is {@code block}: when it ends DEAD it holds its key back. */
  private String submitBlocking(String orderingKey) {
    return store
        .submissions()
        .submit(
            new NewJob("demo.noop", "default", "{}", null, null, 3)
                .withOrderingKey(orderingKey, true))
        .jobId();
  }

  private List<String> dispatchDue() {
    return fixture.dispatchAllDue();
  }

  private long claim(String id, int attempt) {
    return fixture.claim(id, attempt, "w1");
  }

  /** Why a claim of the attempt by another worker is refused; null when it is not. */
  private ClaimResult.Reason refusal(String id, int attempt) {
    return store.leases().claim(id, attempt, "w2", TTL) instanceof ClaimResult.Refused r
        ? r.reason()
        : null;
  }

  private String succeed(String id, int attempt, long token) {
    var event =
        new StatusEvent.Succeeded(
            id, "demo.noop", attempt, token, 1, "w1", fixture.clock.instant());
    return store.reports().report(event, BACKOFF).state();
  }

  private String fail(String id, int attempt, long token, boolean retryable) {
    var event =
        new StatusEvent.Failed(
            id, "demo.noop", attempt, token, 1, "w1", fixture.clock.instant(), "down", retryable);
    return store.reports().report(event, BACKOFF).state();
  }

  @Test
  void onlyTheHeadOfAKeyIsDispatchedAndEachFinishedJobLetsTheNextGoInSubmissionOrder() {
    String a1 = submit("customer-a");
    String a2 = submit("customer-a");
    String a3 = submit("customer-a");
    String b1 = submit("customer-b");
    String free = submit(null);

    assertThat(dispatchDue()).as("the heads and the unkeyed job").containsOnly(a1, b1, free);
    assertThat(store.queries().orderingKeyQueue("customer-a")).containsExactly(a1, a2, a3);

    assertThat(succeed(a1, 1, claim(a1, 1))).isEqualTo("SUCCEEDED");
    assertThat(dispatchDue()).containsExactly(a2);
    assertThat(succeed(a2, 1, claim(a2, 1))).isEqualTo("SUCCEEDED");
    assertThat(dispatchDue()).containsExactly(a3);
    assertThat(fixture.view(a3).state()).isEqualTo(JobState.QUEUED);
    assertThat(fixture.view(a3).orderingKey()).isEqualTo("customer-a");
  }

  @Test
  void aJobBehindItsKeysHeadIsNotClaimedEvenWhenAWorkMessageForItArrives() {
    String a1 = submit("customer-a");
    String a2 = submit("customer-a");
    dispatchDue();

    assertThat(refusal(a2, 1)).isEqualTo(NOT_CLAIMABLE);
    assertThat(fixture.view(a2).state()).isEqualTo(JobState.SUBMITTED);
    assertThat(store.leases().claim(a1, 1, "w1", TTL)).isInstanceOf(ClaimResult.Claimed.class);
  }

  @Test
  void aRetryableFailureKeepsTheHeadAndTheNextJobWaitsWithoutUsingAnAttempt() {
    String a1 = submit("customer-a");
    String a2 = submit("customer-a");
    dispatchDue();

    assertThat(fail(a1, 1, claim(a1, 1), true)).isEqualTo("RETRY_WAIT");
    fixture.clock.advance(BACKOFF.plusSeconds(1));
    assertThat(dispatchDue()).as("the failed head again, not the next job").containsExactly(a1);
    assertThat(succeed(a1, 2, claim(a1, 2))).isEqualTo("SUCCEEDED");

    assertThat(dispatchDue()).containsExactly(a2);
    assertThat(fixture.view(a2).attempt()).as("attempts of the job that waited").isEqualTo(1);
  }

  @Test
  void aLeaseTakenBackFromADeadWorkerKeepsTheHeadUntilItsNextAttemptFinishes() {
    String a1 = submit("customer-a");
    String a2 = submit("customer-a");
    dispatchDue();
    claim(a1, 1);

    fixture.clock.advance(TTL.plusSeconds(1));
    int partition = store.keys().partitionOf(a1);
    assertThat(store.leaseRecovery().reapExpiredLeases(partition, 10, BACKOFF))
        .extracting(ReapedLease::jobId)
        .containsExactly(a1);
    fixture.clock.advance(BACKOFF.plusSeconds(1));
    assertThat(dispatchDue()).containsExactly(a1);
    assertThat(refusal(a2, 1)).isEqualTo(NOT_CLAIMABLE);

    assertThat(succeed(a1, 2, claim(a1, 2))).isEqualTo("SUCCEEDED");
    assertThat(dispatchDue()).containsExactly(a2);
  }

  @Test
  void aDeadHeadLetsTheNextGoAndARedrivenJobGoesLastInItsKeysOrder() {
    String a1 = submit("customer-a");
    String a2 = submit("customer-a");
    String a3 = submit("customer-a");
    dispatchDue();
    assertThat(fail(a1, 1, claim(a1, 1), false)).isEqualTo("DEAD");
    assertThat(dispatchDue()).containsExactly(a2);

    assertThat(store.deadJobs().redrive(a1, "operator"))
        .isEqualTo(DeadJobs.RedriveOutcome.REDRIVEN);
    assertThat(store.queries().orderingKeyQueue("customer-a")).containsExactly(a2, a3, a1);
    assertThat(dispatchDue()).as("the redriven job waits behind the key's head").isEmpty();
    assertThat(refusal(a1, 2)).isEqualTo(NOT_CLAIMABLE);

    assertThat(succeed(a2, 1, claim(a2, 1))).isEqualTo("SUCCEEDED");
    assertThat(dispatchDue()).containsExactly(a3);
    assertThat(succeed(a3, 1, claim(a3, 1))).isEqualTo("SUCCEEDED");
    assertThat(dispatchDue()).containsExactly(a1);
    assertThat(succeed(a1, 2, claim(a1, 2))).isEqualTo("SUCCEEDED");
  }

  @Test
  void cancellingAWaitingJobTakesItOutOfTheOrderAndCancellingTheHeadLetsTheNextGo() {
    String a1 = submit("customer-a");
    String a2 = submit("customer-a");
    String a3 = submit("customer-a");
    dispatchDue();
    claim(a1, 1);

    store.cancels().cancel(a2, "operator", "not needed");
    assertThat(store.queries().orderingKeyQueue("customer-a")).containsExactly(a1, a3);
    assertThat(dispatchDue()).as("the head still runs").isEmpty();

    store.cancels().cancel(a1, "operator", "stuck");
    assertThat(dispatchDue()).containsExactly(a3);
  }

  @Test
  void aScheduledJobThatBecomesTheHeadIsDueAtItsOwnTimeNotEarlier() {
    String a1 = submit("customer-a");
    Instant later = fixture.clock.instant().plusSeconds(60);
    String a2 = submit("customer-a", later);
    dispatchDue();
    assertThat(fixture.view(a2).state()).isEqualTo(JobState.SCHEDULED);

    assertThat(succeed(a1, 1, claim(a1, 1))).isEqualTo("SUCCEEDED");
    assertThat(dispatchDue()).as("a2 becomes the head, but is not due yet").isEmpty();
    fixture.clock.advance(Duration.ofSeconds(61));
    assertThat(dispatchDue()).containsExactly(a2);
  }

  @Test
  void aKeyWhoseJobsAllFinishedLeavesNothingBehindAndStartsAgainAtTheHead() {
    String a1 = submit("customer-a");
    dispatchDue();
    assertThat(succeed(a1, 1, claim(a1, 1))).isEqualTo("SUCCEEDED");
    String keyQueue = store.keys().keyQueue("customer-a");
    String places = store.keys().of(store.keys().partitionOfKey("customer-a"), Keys.KEY_PLACES);
    assertThat(fixture.redis.hasKey(keyQueue)).isFalse();
    assertThat(fixture.redis.opsForHash().hasKey(places, "customer-a")).isFalse();

    String a2 = submit("customer-a");
    assertThat(dispatchDue()).containsExactly(a2);
    assertThat(RedisOrphans.find(fixture.factory, fixture.prefix)).isEmpty();
  }

  @Test
  void aRetryableFailureMarksTheKeyDownUntilTheFirstSuccess() {
    String a1 = submit("customer-a");
    String a2 = submit("customer-a");
    dispatchDue();
    Instant failedAt = fixture.clock.instant();
    assertThat(fail(a1, 1, claim(a1, 1), true)).isEqualTo("RETRY_WAIT");

    var down = store.queries().orderingKey("customer-a");
    assertThat(down.state()).isEqualTo("DOWN");
    assertThat(down.downSince()).isEqualTo(failedAt);
    assertThat(down.backlog()).isEqualTo(2);
    assertThat(down.head()).isEqualTo(a1);
    assertThat(down.headState()).isEqualTo(JobState.RETRY_WAIT);
    assertThat(down.nextAttemptAt()).isEqualTo(failedAt.plus(BACKOFF));
    assertThat(down.blocked()).isFalse();
    assertThat(store.queries().downOrderingKeys(10))
        .extracting(OrderingKeyView::key)
        .containsExactly("customer-a");
    assertThat(store.queries().orderingKeysDownSince()).containsExactly(failedAt);

    fixture.clock.advance(BACKOFF);
    dispatchDue();
    assertThat(succeed(a1, 2, claim(a1, 2))).isEqualTo("SUCCEEDED");
    var up = store.queries().orderingKey("customer-a");
    assertThat(up.state()).isEqualTo("UP");
    assertThat(up.head()).isEqualTo(a2);
    assertThat(store.queries().downOrderingKeys(10)).isEmpty();
    assertThat(store.queries().orderingKeysDownSince()).isEmpty();
  }

  @Test
  void underTheBlockPolicyADeadHeadHoldsItsKeyAndIsKeptUntilItIsRedriven() {
    String a1 = submitBlocking("customer-a");
    String a2 = submit("customer-a");
    dispatchDue();
    assertThat(fail(a1, 1, claim(a1, 1), false)).isEqualTo("DEAD");

    assertThat(dispatchDue()).as("the key waits for an operator").isEmpty();
    var blocked = store.queries().orderingKey("customer-a");
    assertThat(blocked.blocked()).isTrue();
    assertThat(blocked.state()).isEqualTo("DOWN");
    assertThat(blocked.head()).isEqualTo(a1);
    assertThat(fixture.redis.getExpire(store.keys().job(a1)))
        .as("seconds the blocking job has left")
        .isEqualTo(-1L);
    assertThat(fixture.redis.getExpire(store.keys().deadRecord(a1))).isEqualTo(-1L);

    assertThat(store.deadJobs().redrive(a1, "operator"))
        .isEqualTo(DeadJobs.RedriveOutcome.REDRIVEN);
    assertThat(store.queries().orderingKeyQueue("customer-a")).containsExactly(a1, a2);
    assertThat(dispatchDue()).containsExactly(a1);
    assertThat(succeed(a1, 2, claim(a1, 2))).isEqualTo("SUCCEEDED");
    assertThat(dispatchDue()).containsExactly(a2);
    assertThat(store.queries().orderingKey("customer-a").state()).isEqualTo("UP");
  }

  @Test
  void theTrimPassKeepsABlockingDeadHeadListedPastTheDeadRetention() {
    String a1 = submitBlocking("customer-a");
    String a2 = submit("customer-a");
    String other = submit("customer-b");
    dispatchDue();
    assertThat(fail(a1, 1, claim(a1, 1), false)).isEqualTo("DEAD");
    assertThat(fail(other, 1, claim(other, 1), false)).isEqualTo("DEAD");

    fixture.clock.advance(store.settings().deadRetention().plusDays(1));
    int removed = trimEveryIndex();

    assertThat(removed).as("the skip-policy DEAD job's entries go").isPositive();
    assertThat(store.deadJobs().listDead(10))
        .as("the blocking head is still listed for an operator")
        .extracting(DeadJob::jobId)
        .containsExactly(a1);
    assertThat(store.queries().orderingKey("customer-a").head()).isEqualTo(a1);
    assertThat(
            fixture.redis.opsForZSet().score(fixture.base(a1) + Keys.stateIndex(JobState.DEAD), a1))
        .as("still in the DEAD state index")
        .isNotNull();
    assertThat(store.deadJobs().redrive(a1, "operator"))
        .isEqualTo(DeadJobs.RedriveOutcome.REDRIVEN);
    assertThat(dispatchDue()).containsExactly(a1);
    assertThat(store.queries().orderingKeyQueue("customer-a")).containsExactly(a1, a2);
  }

  /** Runs the trim pass over every index of every partition, as the recovery service does. */
  private int trimEveryIndex() {
    int removed = 0;
    for (var index : store.indexes().trimmedIndexes(List.of("default"))) {
      for (int partition = 0; partition < store.settings().partitions(); partition++) {
        Indexes.TrimBatch batch;
        int offset = 0;
        do {
          batch = store.indexes().trimIndex(partition, index, offset, 2);
          offset = batch.next();
          removed += batch.removed();
        } while (batch.more());
      }
    }
    return removed;
  }

  @Test
  void discardingTheDeadHeadOfABlockedKeyLetsTheNextGoAndGivesItItsRetention() {
    String a1 = submitBlocking("customer-a");
    String a2 = submit("customer-a");
    dispatchDue();
    assertThat(fail(a1, 1, claim(a1, 1), false)).isEqualTo("DEAD");
    assertThat(dispatchDue()).isEmpty();

    assertThat(store.deadJobs().discardDead(a1, "operator")).isTrue();
    assertThat(dispatchDue()).containsExactly(a2);
    assertThat(fixture.redis.getExpire(store.keys().job(a1))).isPositive();
  }

  @Test
  void underTheSkipPolicyADeadHeadLetsTheNextGoAndExpiresAsUsual() {
    String a1 = submit("customer-a");
    String a2 = submit("customer-a");
    dispatchDue();
    assertThat(fail(a1, 1, claim(a1, 1), false)).isEqualTo("DEAD");
    assertThat(dispatchDue()).containsExactly(a2);
    assertThat(fixture.redis.getExpire(store.keys().job(a1))).isPositive();
  }
}
