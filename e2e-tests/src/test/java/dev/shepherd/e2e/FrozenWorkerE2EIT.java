package dev.shepherd.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.shepherd.client.ShepherdClient;
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
 * A worker frozen with SIGSTOP loses its leases after the TTL; its jobs run again elsewhere. When
 * it is resumed with SIGCONT it finds its lease gone, stops its handler, and nothing it reports
 * changes the real outcome.
 */
@WithRealServices
class FrozenWorkerE2EIT {

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
        var client = ShepherdClient.builder().httpBaseUri(e2e.cluster.schedulerUri()).build()) {
      List<String> ids = new ArrayList<>();
      for (int i = 0; i < 8; i++) {
        var payload =
            Json.mapper().createObjectNode().put("site", "f" + i).put("phaseMillis", 1500);
        ids.add(client.submit(JobSubmission.of("site.generate", payload)).jobId());
      }
      ManagedProcess frozen = e2e.cluster.workers().get(0);
      List<String> held = new ArrayList<>();
      await()
          .atMost(Duration.ofSeconds(60))
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

      List<CompletableFuture<JobView>> finals =
          ids.stream().map(id -> client.await(id, Duration.ofMinutes(2))).toList();
      CompletableFuture.allOf(finals.toArray(CompletableFuture[]::new)).get();
      for (String id : held) {
        JobView job = client.get(id).orElseThrow();
        assertThat(job.state()).as(id).isEqualTo(JobState.SUCCEEDED);
        assertThat(job.attempt()).as(id).isGreaterThan(1);
        assertThat(job.workerId()).as(id).isEqualTo("worker-2");
      }

      frozen.resume();
      var workerUri = e2e.cluster.httpUris().get("worker-1");
      await()
          .atMost(Duration.ofSeconds(30))
          .until(() -> Scrape.of(List.of(workerUri)).sum("shepherd_worker_leases_lost_total") >= 1);
      // Whatever the resumed worker still sends is refused: the outcomes stay those of worker-2.
      await()
          .during(Duration.ofSeconds(3))
          .atMost(Duration.ofSeconds(10))
          .until(
              () ->
                  held.stream()
                      .map(id -> client.get(id).orElseThrow())
                      .allMatch(
                          j -> j.state() == JobState.SUCCEEDED && "worker-2".equals(j.workerId())));
      e2e.assertNothingLeftOver();
    }
  }
}
