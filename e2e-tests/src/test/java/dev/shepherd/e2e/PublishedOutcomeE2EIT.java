package dev.shepherd.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.shepherd.client.ShepherdClient;
import dev.shepherd.model.JobEvent;
import dev.shepherd.model.JobState;
import dev.shepherd.model.JobSubmission;
import dev.shepherd.model.JobView;
import dev.shepherd.model.Json;
import dev.shepherd.model.MetricNames;
import dev.shepherd.testsupport.ManagedProcess;
import dev.shepherd.testsupport.ServiceEndpoints;
import dev.shepherd.testsupport.TestNames;
import dev.shepherd.testsupport.WithRealServices;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.springframework.data.redis.core.StringRedisTemplate;

/**
 * A published outcome survives the release of its lease (issue 11, item 2; ADR 14): a worker stops
 * or dies after its jobs published their outcomes and before the status-tracker applied them. The
 * tracker is stopped so the outcomes wait in the status queue. Every job must end SUCCEEDED by its
 * first attempt.
 */
@WithRealServices
class PublishedOutcomeE2EIT {

  private static final Duration LEASE_TTL = Duration.ofSeconds(3);
  private static final int JOBS = 12;

  /**
   * One cluster for both ways a worker goes (starting one is slow on a shared machine): the first
   * worker is stopped with SIGTERM (it drains), the second killed with SIGKILL, each after its jobs
   * published their outcomes and while the status-tracker is stopped. No other worker runs until
   * the tracker applied them, so no newer claim exists; a third worker then takes whatever was
   * dispatched again meanwhile, and must find nothing to run.
   */
  @Test
  void aWorkerStoppedOrKilledAfterItsJobsPublishedLosesNoneOfTheirOutcomes(
      ServiceEndpoints endpoints, TestNames names) throws Exception {
    try (var e2e =
            new E2eSupport(
                endpoints,
                names.prefix(),
                1,
                Map.of(
                    "shepherd.store.lease-ttl",
                    LEASE_TTL.toMillis() + "ms",
                    "shepherd.store.retry-initial-backoff",
                    "50ms"));
        var client = e2e.cluster.client().build()) {
      var redis = new StringRedisTemplate(e2e.redis);

      e2e.cluster.stopService("status-tracker");
      ManagedProcess first = e2e.cluster.workers().get(0);
      List<String> drained = submitAndAwaitOutcomes(client, redis, e2e, first);
      first.stop(Duration.ofSeconds(20)); // SIGTERM: the worker drains
      assertThat(first.isAlive()).isFalse();
      e2e.cluster.startService("status-tracker");
      assertEverySucceededByItsFirstAttempt(client, drained, "worker-1");

      ManagedProcess second = e2e.cluster.addWorker();
      e2e.cluster.stopService("status-tracker");
      List<String> killed = submitAndAwaitOutcomes(client, redis, e2e, second);
      second.kill();
      assertThat(second.isAlive()).isFalse();
      e2e.cluster.startService("status-tracker");
      assertEverySucceededByItsFirstAttempt(client, killed, "worker-2");

      // work messages published for a second attempt before the outcome came are refused
      e2e.cluster.addWorker();
      e2e.assertNothingLeftOver();
      assertEverySucceededByItsFirstAttempt(client, drained, "worker-1");
      assertEverySucceededByItsFirstAttempt(client, killed, "worker-2");
    }
  }

  /**
   * Submits {@link #JOBS} jobs and waits until each one's outcome is published, not applied: its
   * lease marked and its outcome in the status queue (the status-tracker is stopped, and a no-op
   * job sends nothing else).
   */
  private static List<String> submitAndAwaitOutcomes(
      ShepherdClient client, StringRedisTemplate redis, E2eSupport e2e, ManagedProcess worker) {
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < JOBS; i++) {
      var payload = Json.mapper().createObjectNode().put("n", i);
      ids.add(client.submit(JobSubmission.of("demo.noop", payload)).jobId());
    }
    // every handler finished, the broker confirmed its outcome and the lease is marked. A no-op
    // job's lease is marked by the worker's beat of the leases waiting for their outcome, a
    // second at most after the publish (ADR 37); a longer job's just before it publishes, so the
    // mark alone does not say the outcome was sent: a worker killed right after the last mark had
    // not published that job's outcome, and the job waited in RETRY_WAIT for a worker the test had
    // not started yet. The worker counts the outcomes the broker confirmed; the status messages
    // are fewer when several outcomes shared one (ADR 36).
    await()
        .atMost(Duration.ofMinutes(3))
        .until(
            () ->
                ids.stream().allMatch(id -> outcomeMarked(redis, e2e.prefix, id))
                    && e2e.cluster.metric(worker.name(), MetricNames.OUTCOMES_PUBLISHED) >= JOBS
                    && e2e.messagesIn(e2e.topology.statusQueue()) >= 1);
    return ids;
  }

  private static void assertEverySucceededByItsFirstAttempt(
      ShepherdClient client, List<String> ids, String worker) throws Exception {
    List<CompletableFuture<JobView>> finals =
        ids.stream().map(id -> client.await(id, Duration.ofMinutes(4))).toList();
    CompletableFuture.allOf(finals.toArray(CompletableFuture[]::new)).get();
    for (CompletableFuture<JobView> f : finals) {
      JobView job = f.get();
      assertThat(job.state()).as(job.id()).isEqualTo(JobState.SUCCEEDED);
      assertThat(job.attempt()).as(job.id()).isEqualTo(1);
      assertThat(job.history())
          .as(job.id())
          .filteredOn(h -> h.event() == JobEvent.CLAIM)
          .singleElement()
          .satisfies(h -> assertThat(h.workerId()).isEqualTo(worker));
      assertThat(job.history().getLast())
          .as(job.id())
          .satisfies(
              h -> {
                assertThat(h.event()).isEqualTo(JobEvent.SUCCEED);
                assertThat(h.workerId()).isEqualTo(worker);
              });
    }
  }

  /** The worker's mark on a lease it keeps for its outcome (read from Redis). */
  private static boolean outcomeMarked(StringRedisTemplate redis, String prefix, String id) {
    String partition = id.substring(0, id.indexOf('-'));
    return redis.opsForHash().get("%s:{p%s}:job:%s".formatted(prefix, partition, id), "outcomeAt")
        != null;
  }
}
