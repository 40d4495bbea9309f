package dev.shepherd.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;
import static org.awaitility.Awaitility.await;

import dev.shepherd.e2e.metrics.Scrape;
import dev.shepherd.model.DeadJob;
import dev.shepherd.model.JobEvent;
import dev.shepherd.model.JobState;
import dev.shepherd.model.JobSubmission;
import dev.shepherd.model.JobTimeouts;
import dev.shepherd.model.JobView;
import dev.shepherd.model.Json;
import dev.shepherd.model.TransitionRecord;
import dev.shepherd.testsupport.ServiceEndpoints;
import dev.shepherd.testsupport.TestNames;
import dev.shepherd.testsupport.WithRealServices;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * A handler that hangs keeps renewing its lease, so the lease reaper never takes it back; only its
 * stall timeout does (ADR 18). A {@code site.generate} job whose first phase takes ten minutes,
 * submitted with a 3 s stall timeout and two attempts, is timed out on each attempt, by its worker
 * or by the recovery service (which then tells the worker, ABANDON): the handler is interrupted and
 * the job ends DEAD naming the timeout. A short job with the same timeout, whose phase and progress
 * reports come every second, succeeds at its first attempt beside it; one whose second phase passes
 * its own 1 s limit ends DEAD as {@code timeout:phase:dashboard_render}, and one that reports every
 * second but runs past its 1.8 s startToClose as {@code timeout:startToClose}.
 */
@WithRealServices
class HungHandlerE2EIT {

  private static final String LEASES_LOST = "shepherd_worker_leases_lost_total";
  private static final String TIMED_OUT = "shepherd_attempts_timed_out_total";
  private static final String ABANDONED = "shepherd_worker_attempts_cancelled_total";
  private static final String WORKER_TIMED_OUT = "shepherd_worker_attempts_timed_out_total";

  @Test
  void aHungHandlerIsTimedOutOnEachAttemptAndEndsDeadWhileAMovingJobSucceeds(
      ServiceEndpoints endpoints, TestNames names) throws Exception {
    try (var e2e =
            new E2eSupport(
                endpoints,
                names.prefix(),
                2,
                Map.of(
                    // renewals every 2 s, so an interrupted handler shows soon after its timeout
                    "shepherd.store.lease-ttl", "6000ms",
                    "shepherd.store.retry-initial-backoff", "50ms"));
        var client = e2e.cluster.client().build()) {
      List<URI> workers =
          List.of(e2e.cluster.httpUris().get("worker-1"), e2e.cluster.httpUris().get("worker-2"));
      URI recovery = e2e.cluster.httpUris().get("recovery");
      double stoppedBefore = stopped(workers);
      JobTimeouts stall = new JobTimeouts(null, Duration.ofSeconds(3));

      String hung =
          client
              .submit(
                  JobSubmission.of("site.generate", payload("hung.example", 600_000))
                      .withMaxAttempts(2)
                      .withTimeouts(stall))
              .jobId();
      String moving =
          client
              .submit(
                  JobSubmission.of("site.generate", payload("moving.example", 1_000))
                      .withMaxAttempts(2)
                      .withTimeouts(stall))
              .jobId();

      // a phase over its own limit, and an attempt over its startToClose though it reports
      String slowPhase =
          client
              .submit(
                  JobSubmission.of("site.generate", payload("phase.example", 2_500))
                      .withMaxAttempts(1)
                      .withTimeouts(
                          new JobTimeouts(
                              null, null, Map.of("dashboard_render", Duration.ofSeconds(1)))))
              .jobId();
      String tooLong =
          client
              .submit(
                  JobSubmission.of("site.generate", payload("long.example", 1_000))
                      .withMaxAttempts(1)
                      .withTimeouts(new JobTimeouts(Duration.ofMillis(1_800), null)))
              .jobId();
      JobView phaseOver = client.await(slowPhase, Duration.ofSeconds(60)).get();
      assertThat(phaseOver.state()).isEqualTo(JobState.DEAD);
      assertThat(phaseOver.lastError()).isEqualTo("timeout:phase:dashboard_render");
      assertThat(phaseOver.phases())
          .as("the unlimited first phase (2.5 s) ran to its end")
          .anyMatch(p -> p.name().equals("bug_list_download") && p.endedAt() != null);
      JobView closed = client.await(tooLong, Duration.ofSeconds(60)).get();
      assertThat(closed.state()).isEqualTo(JobState.DEAD);
      assertThat(closed.lastError()).isEqualTo("timeout:startToClose");

      JobView done = client.await(moving, Duration.ofSeconds(60)).get();
      assertThat(done.state()).isEqualTo(JobState.SUCCEEDED);
      assertThat(done.attempt()).isEqualTo(1);
      assertThat(done.history())
          .noneMatch(h -> h.reason() != null && h.reason().contains("timeout"));

      JobView dead = client.await(hung, Duration.ofSeconds(60)).get();
      assertThat(dead.state()).isEqualTo(JobState.DEAD);
      assertThat(dead.attempt()).isEqualTo(2);
      assertThat(dead.lastError()).isEqualTo("timeout:stall");
      assertThat(dead.history())
          .filteredOn(h -> "timeout:stall".equals(h.reason()))
          .extracting(TransitionRecord::event, TransitionRecord::attempt)
          .containsExactly(
              tuple(JobEvent.FAIL_RETRYABLE, 1), tuple(JobEvent.ATTEMPTS_EXHAUSTED, 2));
      assertThat(client.deadJobs(100))
          .filteredOn(d -> hung.equals(d.jobId()))
          .extracting(DeadJob::reason)
          .containsExactly("attempts exhausted (2): timeout:stall");

      // Both hung attempts were timed out, by the worker itself (sooner) or by recovery (which
      // also tells the worker, ABANDON), and both handlers were stopped.
      await()
          .atMost(Duration.ofSeconds(30))
          .pollInterval(Duration.ofMillis(200))
          .untilAsserted(
              () -> {
                assertThat(stopped(workers)).isGreaterThanOrEqualTo(stoppedBefore + 2);
                assertThat(
                        Scrape.of(workers).sum(WORKER_TIMED_OUT, HungHandlerE2EIT::stallOfSite)
                            + Scrape.of(List.of(recovery))
                                .sum(TIMED_OUT, HungHandlerE2EIT::stallOfSite))
                    .isGreaterThanOrEqualTo(2.0);
              });
      e2e.assertNothingLeftOver();
    }
  }

  /**
   * A worker frozen (SIGSTOP) while its handler hangs can neither time the attempt out itself nor
   * obey an order: recovery's stall timeout ends the attempt, and the job SUCCEEDS at its next
   * attempt on the other worker. Resumed, the frozen worker changes nothing.
   */
  @Test
  void aHungAttemptOnAFrozenWorkerIsTimedOutByRecoveryAndTheJobSucceedsOnTheOtherWorker(
      ServiceEndpoints endpoints, TestNames names) throws Exception {
    try (var e2e =
            new E2eSupport(
                endpoints,
                names.prefix(),
                2,
                Map.of(
                    // one slot each: the frozen worker's busy slot takes no other delivery
                    "shepherd.worker.capacity", "1",
                    "shepherd.store.lease-ttl", "60000ms",
                    "shepherd.store.retry-initial-backoff", "50ms"));
        var client = e2e.cluster.client().build()) {
      String id =
          client
              .submit(
                  JobSubmission.of(
                          "demo.flaky",
                          Json.mapper()
                              .createObjectNode()
                              .put("hangFirstAttempts", 1)
                              .put("workMillis", 0)
                              .put("failureProbability", 0.0))
                      .withMaxAttempts(2)
                      .withTimeouts(new JobTimeouts(null, Duration.ofSeconds(4))))
              .jobId();
      await()
          .atMost(Duration.ofSeconds(30))
          .until(() -> client.get(id).orElseThrow().state() == JobState.RUNNING);
      String frozenId = client.get(id).orElseThrow().workerId();
      var frozen =
          e2e.cluster.workers().stream()
              .filter(w -> w.name().equals(frozenId))
              .findFirst()
              .orElseThrow();
      frozen.pause();
      try {
        JobView done = client.await(id, Duration.ofSeconds(60)).get();
        assertThat(done.state()).isEqualTo(JobState.SUCCEEDED);
        assertThat(done.attempt()).isEqualTo(2);
        assertThat(done.history())
            .filteredOn(h -> "timeout:stall".equals(h.reason()))
            .extracting(
                TransitionRecord::event, TransitionRecord::attempt, TransitionRecord::workerId)
            .containsExactly(tuple(JobEvent.FAIL_RETRYABLE, 1, frozenId));
        assertThat(done.history().getLast().workerId())
            .as("the attempt that succeeded ran on the other worker")
            .isNotEqualTo(frozenId)
            .isNotNull();
      } finally {
        frozen.resume();
      }
      await()
          .atMost(Duration.ofSeconds(30))
          .untilAsserted(
              () ->
                  assertThat(
                          Scrape.of(List.of(e2e.cluster.httpUris().get(frozenId)))
                                  .sum(WORKER_TIMED_OUT)
                              + Scrape.of(List.of(e2e.cluster.httpUris().get(frozenId)))
                                  .sum(ABANDONED))
                      .as("the resumed worker stopped its handler")
                      .isPositive());
      assertThat(client.get(id).orElseThrow().state()).isEqualTo(JobState.SUCCEEDED);
      e2e.assertNothingLeftOver();
    }
  }

  private static boolean stallOfSite(Map<String, String> labels) {
    return "stall".equals(labels.get("timeout")) && "site.generate".equals(labels.get("type"));
  }

  /**
   * Attempts the workers stopped: timed out by the worker, on an ABANDON order, or on a refused
   * lease renewal.
   */
  private static double stopped(List<URI> workers) {
    Scrape scrape = Scrape.of(workers);
    return scrape.sum(WORKER_TIMED_OUT)
        + scrape.sum(LEASES_LOST)
        + scrape.sum(ABANDONED, labels -> "abandon".equals(labels.get("kind")));
  }

  private static tools.jackson.databind.node.ObjectNode payload(String site, int phaseMillis) {
    return Json.mapper().createObjectNode().put("site", site).put("phaseMillis", phaseMillis);
  }
}
