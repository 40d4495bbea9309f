package dev.shepherd.store;

import static org.assertj.core.api.Assertions.assertThat;

import dev.shepherd.model.BatchLimits;
import dev.shepherd.model.JobEvent;
import dev.shepherd.model.JobState;
import dev.shepherd.model.StatusEvent;
import dev.shepherd.model.TransitionRecord;
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
 * A job type that takes batches (ADR 31): the head of an ordering key carries the key's next
 * waiting jobs in one attempt, under a transaction id stored before the claim answers, and they end
 * with its outcome, each with its own history; a retry carries the same jobs under the same id.
 */
@WithRealServices
class TransactionsIT {

  private static final Duration TTL = StoreFixture.TTL;
  private static final Duration BACKOFF = Duration.ofSeconds(5);
  private static final BatchLimits THREE = new BatchLimits(3, 0);

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

  private String submit(String type, String key, String payload, BatchLimits batch) {
    return submit(type, key, payload, batch, false, null);
  }

  private String submit(
      String type,
      String key,
      String payload,
      BatchLimits batch,
      boolean blocksItsKey,
      Instant notBefore) {
    return store
        .submissions()
        .submit(
            new NewJob(type, "default", payload, null, notBefore, 3)
                .withOrderingKey(key, blocksItsKey)
                .withBatch(batch))
        .jobId();
  }

  private String submit(String key) {
    return submit("demo.batch", key, "{}", THREE);
  }

  private ClaimResult.Claimed claim(String id, int attempt, String worker) {
    return (ClaimResult.Claimed) store.leases().claim(id, attempt, worker, TTL);
  }

  private static List<String> members(ClaimResult.Claimed claimed) {
    return claimed.transaction().members().stream()
        .map(ClaimResult.Transaction.Member::jobId)
        .toList();
  }

  private String succeed(String id, int attempt, long token) {
    return succeed(id, attempt, token, "w1");
  }

  /** The outcome as {@code worker}, the one that claimed the attempt (its token is bound to it). */
  private String succeed(String id, int attempt, long token, String worker) {
    var event =
        new StatusEvent.Succeeded(
            id, "demo.batch", attempt, token, 1, worker, fixture.clock.instant());
    return store.reports().report(event, BACKOFF).state();
  }

  private String fail(String id, int attempt, long token, boolean retryable) {
    var event =
        new StatusEvent.Failed(
            id,
            "demo.batch",
            attempt,
            token,
            1,
            "w1",
            fixture.clock.instant(),
            "endpoint down",
            retryable);
    return store.reports().report(event, BACKOFF).state();
  }

  private JobState state(String id) {
    return fixture.view(id).state();
  }

  @Test
  void theHeadCarriesItsKeysNextWaitingJobsInOrderAndTheyAllSucceedWithIt() {
    String a1 = submit("customer-a");
    String a2 = submit("customer-a");
    String a3 = submit("customer-a");
    String a4 = submit("customer-a");
    assertThat(fixture.dispatchAllDue()).containsExactly(a1);

    var claimed = claim(a1, 1, "w1");
    assertThat(members(claimed)).as("up to 3 jobs in all, in order").containsExactly(a2, a3);
    long txn = claimed.transaction().id();
    assertThat(txn).isPositive();
    assertThat(fixture.view(a2).transactionId())
        .as("stored before the claim answered")
        .isEqualTo(txn);
    assertThat(state(a2)).isEqualTo(JobState.SUBMITTED);
    assertThat(claimed.transaction().members().getFirst().payloadJson()).isEqualTo("{}");

    assertThat(succeed(a1, 1, claimed.fencingToken())).isEqualTo("SUCCEEDED");
    assertThat(List.of(state(a2), state(a3))).containsOnly(JobState.SUCCEEDED);
    List<TransitionRecord> history = fixture.view(a3).history();
    assertThat(history)
        .extracting(TransitionRecord::event)
        .containsSubsequence(JobEvent.CLAIM, JobEvent.SUCCEED);
    assertThat(history.getLast().fencingToken()).isEqualTo(claimed.fencingToken());
    assertThat(history.getLast().reason()).contains(Long.toString(txn)).contains(a1);
    assertThat(fixture.redis.getExpire(store.keys().job(a3))).as("retained").isPositive();
    assertThat(state(a4)).isEqualTo(JobState.SUBMITTED);

    assertThat(fixture.dispatchAllDue()).as("the key goes on after the batch").containsExactly(a4);
    var next = claim(a4, 1, "w1");
    assertThat(members(next)).isEmpty();
    assertThat(next.transaction().id()).as("ids grow per key").isGreaterThan(txn);
  }

  @Test
  void aTransactionEndsAtTheByteLimitAtAnotherTypeAndAtAJobNotDueYet() {
    var limits = new BatchLimits(10, 30);
    String payload = "{\"n\":\"0123456789\"}"; // 18 bytes: two of them do not fit in 30
    String b1 = submit("demo.batch", "customer-b", payload, limits);
    submit("demo.batch", "customer-b", payload, limits);
    assertThat(fixture.dispatchAllDue()).containsExactly(b1);
    assertThat(members(claim(b1, 1, "w1"))).as("past the byte limit").isEmpty();

    String c1 = submit("demo.batch", "customer-c", "{}", limits);
    String c2 = submit("demo.batch", "customer-c", "{}", limits);
    submit("demo.other", "customer-c", "{}", null);
    submit("demo.batch", "customer-c", "{}", limits);
    String d1 = submit("demo.batch", "customer-d", "{}", limits);
    submit(
        "demo.batch", "customer-d", "{}", limits, false, fixture.clock.instant().plusSeconds(60));
    assertThat(fixture.dispatchAllDue()).containsOnly(c1, d1);
    assertThat(members(claim(c1, 1, "w1"))).as("up to another type").containsExactly(c2);
    assertThat(members(claim(d1, 1, "w1"))).as("up to a job not due yet").isEmpty();
  }

  @Test
  void aRetryCarriesTheSameJobsUnderTheSameIdAndTheWaitingOnesUseNoAttempt() {
    String a1 = submit("customer-a");
    String a2 = submit("customer-a");
    String a3 = submit("customer-a");
    fixture.dispatchAllDue();
    var first = claim(a1, 1, "w1");
    assertThat(claim(a1, 1, "w1").transaction())
        .as("the same worker's repeated claim (its reply was lost)")
        .isEqualTo(first.transaction());

    assertThat(fail(a1, 1, first.fencingToken(), true)).isEqualTo("RETRY_WAIT");
    assertThat(List.of(state(a2), state(a3))).containsOnly(JobState.SUBMITTED);
    assertThat(fixture.view(a2).attempt()).isEqualTo(1);
    String a4 = submit("customer-a");
    assertThat(store.cancels().cancel(a3, "operator", "not needed").outcome())
        .isEqualTo(CancelResult.Outcome.CANCELLED);

    fixture.clock.advance(BACKOFF);
    assertThat(fixture.dispatchAllDue()).containsExactly(a1);
    var second = claim(a1, 2, "w2");
    assertThat(second.transaction().id()).isEqualTo(first.transaction().id());
    assertThat(members(second))
        .as("the first attempt's jobs still waiting, none added")
        .containsExactly(a2);
    assertThat(succeed(a1, 2, second.fencingToken(), "w2")).isEqualTo("SUCCEEDED");
    assertThat(state(a2)).isEqualTo(JobState.SUCCEEDED);
    assertThat(state(a3)).as("a cancel stays a cancel").isEqualTo(JobState.CANCELLED);
    assertThat(fixture.dispatchAllDue()).containsExactly(a4);
  }

  @Test
  void aHeadThatEndsDeadUnderSkipEndsItsTransactionDeadWithIt() {
    String a1 = submit("customer-a");
    String a2 = submit("customer-a");
    String a3 = submit("customer-a");
    String a4 = submit("customer-a");
    fixture.dispatchAllDue();
    var claimed = claim(a1, 1, "w1");

    assertThat(fail(a1, 1, claimed.fencingToken(), false)).isEqualTo("DEAD");
    assertThat(List.of(state(a2), state(a3))).containsOnly(JobState.DEAD);
    assertThat(store.deadJobs().findDead(a2).orElseThrow().reason())
        .contains("transaction " + claimed.transaction().id())
        .contains("endpoint down");
    assertThat(fixture.dispatchAllDue()).containsExactly(a4);
  }

  @Test
  void underTheBlockPolicyTheTransactionWaitsWithItsDeadHeadAndARedriveCarriesItAgain() {
    String a1 = submit("demo.batch", "customer-a", "{}", THREE, true, null);
    String a2 = submit("demo.batch", "customer-a", "{}", THREE, true, null);
    fixture.dispatchAllDue();
    var claimed = claim(a1, 1, "w1");
    assertThat(fail(a1, 1, claimed.fencingToken(), false)).isEqualTo("DEAD");
    assertThat(state(a2)).isEqualTo(JobState.SUBMITTED);
    assertThat(fixture.dispatchAllDue()).isEmpty();

    assertThat(store.deadJobs().redrive(a1, "operator"))
        .isEqualTo(DeadJobs.RedriveOutcome.REDRIVEN);
    assertThat(fixture.dispatchAllDue()).containsExactly(a1);
    var again = claim(a1, 2, "w1");
    assertThat(again.transaction().id()).isEqualTo(claimed.transaction().id());
    assertThat(members(again)).containsExactly(a2);
    assertThat(succeed(a1, 2, again.fencingToken())).isEqualTo("SUCCEEDED");
    assertThat(state(a2)).isEqualTo(JobState.SUCCEEDED);
  }

  @Test
  void aLeaseTakenBackLeavesTheTransactionWaitingAndIdsKeepGrowingAfterTheKeyEmptied() {
    String a1 = submit("customer-a");
    String a2 = submit("customer-a");
    fixture.dispatchAllDue();
    var claimed = claim(a1, 1, "w1");
    assertThat(store.leaseRecovery().releaseLeasesOf("w1", "worker stopped")).hasSize(1);
    assertThat(state(a2)).isEqualTo(JobState.SUBMITTED);

    fixture.clock.advance(Duration.ofMinutes(1));
    fixture.dispatchAllDue();
    var again = claim(a1, 2, "w2");
    assertThat(again.transaction()).isEqualTo(claimed.transaction());
    assertThat(succeed(a1, 2, again.fencingToken(), "w2")).isEqualTo("SUCCEEDED");
    assertThat(state(a2)).isEqualTo(JobState.SUCCEEDED);
    assertThat(store.queries().orderingKeyQueue("customer-a")).isEmpty();

    String a3 = submit("customer-a");
    fixture.dispatchAllDue();
    assertThat(claim(a3, 1, "w1").transaction().id())
        .as("a key that emptied and starts again")
        .isGreaterThan(claimed.transaction().id());
  }

  @Test
  void aJobWithoutABatchTypeOrWithoutAnOrderingKeyHasNoTransaction() {
    String plain = submit("demo.noop", "customer-e", "{}", null);
    String unkeyed =
        store
            .submissions()
            .submit(new NewJob("demo.batch", "default", "{}", null, null, 3).withBatch(THREE))
            .jobId();
    fixture.dispatchAllDue();
    assertThat(claim(plain, 1, "w1").transaction()).isNull();
    assertThat(claim(unkeyed, 1, "w1").transaction()).isNull();
    assertThat(fixture.view(plain).transactionId()).isNull();
  }
}
