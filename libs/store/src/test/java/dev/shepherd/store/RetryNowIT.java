package dev.shepherd.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.shepherd.model.JobState;
import dev.shepherd.model.JobTimeouts;
import dev.shepherd.model.StatusEvent;
import dev.shepherd.testsupport.ServiceEndpoints;
import dev.shepherd.testsupport.TestNames;
import dev.shepherd.testsupport.WithRealServices;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.data.redis.connection.Message;
import org.springframework.data.redis.listener.ChannelTopic;
import org.springframework.data.redis.listener.RedisMessageListenerContainer;

/**
 * Retry now (retry_now.lua): a job waiting out its backoff is due at once and nothing else of it
 * changes; every other state, a missing job and a released last attempt awaiting its outcome are
 * refused.
 */
@WithRealServices
class RetryNowIT {

  private static final Duration BACKOFF = Duration.ofMinutes(10);

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

  /** A job whose first attempt failed retryably: RETRY_WAIT, due after {@link #BACKOFF}. */
  private String waitingForRetry() {
    String id = fixture.claimed(3, JobTimeouts.NONE, "w1");
    long token = fixture.token(id);
    var failed =
        new StatusEvent.Failed(
            id, "demo.noop", 1, token, 1, "w1", fixture.clock.instant(), "flaky", true);
    assertThat(store.reports().report(failed, BACKOFF).state()).isEqualTo("RETRY_WAIT");
    return id;
  }

  private List<String> due(String id) {
    return store.outbox().reserveDue(store.keys().partitionOf(id), 100, StoreFixture.TTL).stream()
        .map(DueEntry::jobId)
        .toList();
  }

  @Test
  void aJobWaitingOutItsBackoffIsDueAtOnceAndKeepsItsStateAndAttempt() {
    String id = waitingForRetry();
    Instant dueBefore = fixture.clock.instant().plus(BACKOFF);
    assertThat(due(id)).isEmpty();
    assertThat(store.queries().nextAttemptAt(id)).contains(dueBefore);

    var result = store.retries().retryNow(id, "ops");

    assertThat(result).isEqualTo(new Retries.RetryNow.DueNow(dueBefore));
    var view = fixture.view(id);
    assertThat(view.state()).isEqualTo(JobState.RETRY_WAIT);
    assertThat(view.attempt()).isEqualTo(2);
    assertThat(store.queries().nextAttemptAt(id)).contains(fixture.clock.instant());
    assertThat(fixture.redis.opsForHash().get(store.keys().job(id), "retryNowBy")).isEqualTo("ops");
    // the dispatcher publishes it now, not in ten minutes, and the job goes on as a retry does
    assertThat(due(id)).containsExactly(id);
  }

  @Test
  void theDispatchersOfItsPartitionHearOfItAtOnce() throws Exception {
    String id = waitingForRetry();
    List<String> heard = new CopyOnWriteArrayList<>();
    var container = new RedisMessageListenerContainer();
    container.setConnectionFactory(fixture.factory);
    container.addMessageListener(
        (Message message, byte[] pattern) -> heard.add(new String(message.getBody())),
        new ChannelTopic(store.keys().wakeChannel(store.keys().partitionOf(id))));
    container.afterPropertiesSet();
    container.start();
    try {
      await().atMost(10, TimeUnit.SECONDS).until(container::isListening);
      store.retries().retryNow(id, "ops");
      await().atMost(10, TimeUnit.SECONDS).untilAsserted(() -> assertThat(heard).contains(id));
    } finally {
      container.stop();
      container.destroy();
    }
  }

  @Test
  void aJobNotWaitingForARetryIsRefusedWithItsStateAndLeftAsItWas() {
    String queued = fixture.dispatched(fixture.submitted(JobTimeouts.NONE));
    String running = fixture.claimed(3, JobTimeouts.NONE, "w1");
    String submitted = fixture.submitted(JobTimeouts.NONE);
    List<Retries.RetryNow> results = new ArrayList<>();
    for (String id : List.of(queued, running, submitted)) {
      results.add(store.retries().retryNow(id, "ops"));
    }

    assertThat(results)
        .containsExactly(
            new Retries.RetryNow.NotWaiting(JobState.QUEUED),
            new Retries.RetryNow.NotWaiting(JobState.RUNNING),
            new Retries.RetryNow.NotWaiting(JobState.SUBMITTED));
    assertThat(fixture.view(queued).state()).isEqualTo(JobState.QUEUED);
    assertThat(fixture.redis.opsForHash().get(store.keys().job(queued), "retryNowBy")).isNull();
  }

  @Test
  void aFinishedJobIsRefused() {
    String id = fixture.claimed(1, JobTimeouts.NONE, "w1");
    var failed =
        new StatusEvent.Failed(
            id, "demo.noop", 1, fixture.token(id), 1, "w1", fixture.clock.instant(), "bad", false);
    store.reports().report(failed, BACKOFF);

    assertThat(store.retries().retryNow(id, "ops"))
        .isEqualTo(new Retries.RetryNow.NotWaiting(JobState.DEAD));
  }

  @Test
  void aMissingJobIsMissing() {
    String id = fixture.submitted(JobTimeouts.NONE);
    fixture.redis.delete(store.keys().job(id));

    assertThat(store.retries().retryNow(id, "ops")).isEqualTo(new Retries.RetryNow.Missing());
  }

  @Test
  void aReleasedLastAttemptAwaitingItsOutcomeIsLeftToItsGrace() {
    String id = fixture.claimed(1, JobTimeouts.NONE, "w1");
    fixture.clock.advance(StoreFixture.TTL.plusSeconds(1));
    store.leaseRecovery().reapExpiredLeases(store.keys().partitionOf(id), 10, Duration.ZERO);
    assertThat(fixture.view(id).state()).isEqualTo(JobState.RETRY_WAIT);

    assertThat(store.retries().retryNow(id, "ops")).isEqualTo(new Retries.RetryNow.AwaitsOutcome());
    assertThat(fixture.view(id).state()).isEqualTo(JobState.RETRY_WAIT);
  }
}
