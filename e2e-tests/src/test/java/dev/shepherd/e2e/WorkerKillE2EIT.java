package dev.shepherd.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.shepherd.model.JobEvent;
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
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/** A worker killed with SIGKILL in the middle of its jobs: they all finish elsewhere. */
@WithRealServices
class WorkerKillE2EIT {

  private static final Duration LEASE_TTL = Duration.ofSeconds(3);

  @Test
  void everyJobOfAKilledWorkerFinishesElsewhereAfterTheLeaseTtl(
      ServiceEndpoints endpoints, TestNames names) throws Exception {
    try (var e2e =
            new E2eSupport(
                endpoints,
                names.prefix(),
                2,
                Map.of(
                    "shepherd.store.lease-ttl",
                    LEASE_TTL.toMillis() + "ms",
                    "shepherd.store.retry-initial-backoff",
                    "50ms"));
        var client = e2e.cluster.client().build()) {
      List<String> ids = new ArrayList<>();
      for (int i = 0; i < 24; i++) {
        var payload = Json.mapper().createObjectNode().put("site", "k" + i).put("phaseMillis", 700);
        ids.add(client.submit(JobSubmission.of("site.generate", payload)).jobId());
      }
      ManagedProcess victim = e2e.cluster.workers().get(0);
      String victimId = "worker-1";
      List<String> held = new ArrayList<>();
      await()
          .atMost(Duration.ofSeconds(60))
          .until(
              () -> {
                held.clear();
                for (String id : ids) {
                  Optional<JobView> job = client.get(id);
                  if (job.isPresent()
                      && job.get().state() == JobState.RUNNING
                      && victimId.equals(job.get().workerId())) {
                    held.add(id);
                  }
                }
                return held.size() >= 2;
              });
      victim.kill();
      assertThat(victim.isAlive()).isFalse();

      List<CompletableFuture<JobView>> finals =
          ids.stream().map(id -> client.await(id, Duration.ofMinutes(3))).toList();
      CompletableFuture.allOf(finals.toArray(CompletableFuture[]::new)).get();
      for (CompletableFuture<JobView> f : finals) {
        JobView job = f.get();
        assertThat(job.state()).as(job.id()).isEqualTo(JobState.SUCCEEDED);
        if (held.contains(job.id())) {
          assertThat(job.attempt()).as(job.id()).isGreaterThan(1);
          assertThat(job.workerId()).as(job.id()).isNotEqualTo(victimId);
          assertThat(job.history())
              .as(job.id())
              .anySatisfy(h -> assertThat(h.event()).isEqualTo(JobEvent.LEASE_EXPIRED));
        }
      }
      e2e.assertNothingLeftOver();
    }
  }
}
