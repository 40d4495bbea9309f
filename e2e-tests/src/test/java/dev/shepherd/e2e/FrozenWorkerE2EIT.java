package dev.shepherd.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.shepherd.e2e.metrics.Scrape;
import dev.shepherd.model.JobState;
import dev.shepherd.model.JobSubmission;
import dev.shepherd.model.JobView;
import dev.shepherd.model.Json;
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

/**
 * A worker frozen with SIGSTOP loses its leases after the TTL; its jobs run again elsewhere. It is
 * resumed with SIGCONT while those new attempts run: whatever it still reports for its old attempts
 * before its lease keeper cancels them is refused as stale (counted by the status-tracker) and
 * changes nothing; each job ends from its new attempt, whose token and worker the SUCCEED line
 * carries. (Which comes first after SIGCONT, a handler's late report or the keeper's cancel, is a
 * race between two of the worker's threads; FencingMutationE2EIT and BadInputE2EIT prove the
 * refusal of stale reports without it.)
 */
@WithRealServices
class FrozenWorkerE2EIT {

  private static final String STALE = "shepherd_status_stale_reports_total";
  private static final String LEASES_LOST = "shepherd_worker_leases_lost_total";

  @Test
  void aFrozenWorkersJobsFinishElsewhereAndItsLateReportsChangeNothing(
      ServiceEndpoints endpoints, TestNames names) throws Exception {
    try (var e2e =
            new E2eSupport(
                endpoints,
                names.prefix(),
                2,
                Map.of(
                    "shepherd.store.lease-ttl", "3000ms",
                    "shepherd.store.retry-initial-backoff", "50ms"));
        var client = e2e.cluster.client().build()) {
      // Eight jobs of three 4 s phases, for two workers of capacity 4: both run some, and each
      // attempt outlives the 3 s lease. A new attempt runs 12 s, so the frozen worker's late
      // reports land while it runs even when a loaded machine thaws the worker slowly (with 6 s
      // attempts a CI run saw every new attempt finish first).
      List<String> ids = new ArrayList<>();
      for (int i = 0; i < 8; i++) {
        var payload =
            Json.mapper().createObjectNode().put("site", "f" + i).put("phaseMillis", 4000);
        ids.add(client.submit(JobSubmission.of("site.generate", payload)).jobId());
      }
      ManagedProcess frozen = e2e.cluster.workers().get(0);
      List<String> held = new ArrayList<>();
      await()
          .atMost(Duration.ofSeconds(60))
          .pollInterval(Duration.ofMillis(50))
          .until(
              () -> {
                held.clear();
                for (String id : ids) {
                  JobView job = client.get(id).orElseThrow();
                  if (job.state() == JobState.RUNNING && "worker-1".equals(job.workerId())) {
                    held.add(id);
                  }
                }
                return !held.isEmpty();
              });
      frozen.pause();

      // The frozen worker's leases expire; worker-2 claims and runs the new attempts. Resume it
      // once every one has started, while some still run.
      await()
          .atMost(Duration.ofSeconds(90))
          .pollInterval(Duration.ofMillis(50))
          .until(
              () -> {
                List<JobView> now = held.stream().map(id -> client.get(id).orElseThrow()).toList();
                return now.stream()
                        .allMatch(
                            j ->
                                j.attempt() > 1
                                    && "worker-2".equals(j.workerId())
                                    && (j.state() == JobState.RUNNING
                                        || j.state() == JobState.SUCCEEDED))
                    && now.stream().anyMatch(j -> j.state() == JobState.RUNNING);
              });
      var tracker = List.of(e2e.cluster.httpUris().get("status-tracker"));
      var frozenUri = List.of(e2e.cluster.httpUris().get("worker-1"));
      double staleBefore = Scrape.of(tracker).sum(STALE);
      double lostBefore = Scrape.of(frozenUri).sum(LEASES_LOST);
      frozen.resume();

      // Its phases overran while it was frozen. Once resumed, two of its threads race: a handler
      // reports its phase's end with the old token (refused as stale), or its lease keeper finds
      // the lease gone first and cancels the attempt, which then reports nothing more. Either way
      // the old attempts change nothing; wait until one of the two has happened for them.
      await()
          .atMost(Duration.ofSeconds(20))
          .pollInterval(Duration.ofMillis(50))
          .until(
              () ->
                  Scrape.of(tracker).sum(STALE) > staleBefore
                      || Scrape.of(frozenUri).sum(LEASES_LOST) >= lostBefore + held.size());
      System.out.printf(
          "frozen worker resumed: %.0f stale reports refused, %.0f of its %d attempts cancelled by"
              + " their lease keeper%n",
          Scrape.of(tracker).sum(STALE) - staleBefore,
          Scrape.of(frozenUri).sum(LEASES_LOST) - lostBefore,
          held.size());
      List<JobView> whenRefused = held.stream().map(id -> client.get(id).orElseThrow()).toList();
      assertThat(whenRefused)
          .as("the jobs when the frozen worker's reports were refused")
          .allSatisfy(
              j -> {
                assertThat(j.attempt()).isGreaterThan(1);
                assertThat(j.workerId()).isEqualTo("worker-2");
                assertThat(j.state()).isIn(JobState.RUNNING, JobState.SUCCEEDED);
              });
      assertThat(whenRefused)
          .as("a new attempt was still running when the stale reports came")
          .anySatisfy(j -> assertThat(j.state()).isEqualTo(JobState.RUNNING));

      List<CompletableFuture<JobView>> finals =
          ids.stream().map(id -> client.await(id, Duration.ofMinutes(2))).toList();
      CompletableFuture.allOf(finals.toArray(CompletableFuture[]::new)).get();
      for (int i = 0; i < held.size(); i++) {
        JobView job = client.get(held.get(i)).orElseThrow();
        assertThat(job.state()).as(job.id()).isEqualTo(JobState.SUCCEEDED);
        assertThat(job.attempt()).as(job.id()).isEqualTo(whenRefused.get(i).attempt());
        assertThat(job.workerId()).as(job.id()).isEqualTo("worker-2");
      }
      OutcomeAudit audit = OutcomeAudit.of(e2e.cluster.schedulerUri(), ids);
      System.out.println("frozen worker: " + audit.summary());
      assertThat(audit.violations()).as("outcomes not from the newest attempt").isEmpty();
      assertThat(audit.count(JobState.SUCCEEDED)).isEqualTo(ids.size());

      await()
          .atMost(Duration.ofSeconds(30))
          .until(() -> Scrape.of(frozenUri).sum(LEASES_LOST) >= 1);
      e2e.assertNothingLeftOver();
    }
  }
}
