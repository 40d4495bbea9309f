package dev.shepherd.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.shepherd.client.ShepherdClient;
import dev.shepherd.model.JobEvent;
import dev.shepherd.model.JobState;
import dev.shepherd.model.JobSubmission;
import dev.shepherd.model.JobView;
import dev.shepherd.model.Json;
import dev.shepherd.model.TransitionRecord;
import dev.shepherd.testsupport.ServiceEndpoints;
import dev.shepherd.testsupport.TestNames;
import dev.shepherd.testsupport.WithRealServices;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/**
 * Jobs with ordering keys, run by every service as its own process, with random transient failures
 * and a worker SIGKILLed while it runs keyed jobs (ADR 29): for every key the jobs succeed in the
 * order they were submitted, and no job of a key is claimed before the one before it has succeeded,
 * checked from the jobs' histories. Unkeyed jobs run beside them.
 */
@WithRealServices
class OrderingKeysE2EIT {

  private static final int KEYS = 8;
  private static final int JOBS_PER_KEY = 12;
  private static final int UNKEYED = 24;
  private static final Duration LEASE_TTL = Duration.ofSeconds(3);

  @Test
  void eachKeysJobsSucceedInSubmissionOrderOneAtATimeThroughFailuresAndAWorkerKill(
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
        var client = ShepherdClient.builder().httpBaseUri(e2e.cluster.schedulerUri()).build()) {
      // submitted one after the other, the keys interleaved: each key's order is the order here
      Map<String, List<String>> submitted = new LinkedHashMap<>();
      List<String> unkeyed = new ArrayList<>();
      var payload =
          Json.mapper().createObjectNode().put("failureProbability", 0.2).put("workMillis", 150);
      for (int n = 0; n < JOBS_PER_KEY; n++) {
        for (int k = 0; k < KEYS; k++) {
          String key = "customer-" + k;
          var job =
              JobSubmission.of("demo.flaky", payload).withMaxAttempts(20).withOrderingKey(key);
          submitted.computeIfAbsent(key, x -> new ArrayList<>()).add(client.submit(job).jobId());
        }
        if (n < UNKEYED / 2) {
          for (int u = 0; u < 2; u++) {
            unkeyed.add(
                client.submit(JobSubmission.of("demo.flaky", payload).withMaxAttempts(20)).jobId());
          }
        }
      }

      // the worker dies while it runs a keyed job: the key's next job must wait for its retry
      await()
          .atMost(Duration.ofSeconds(60))
          .until(
              () ->
                  e2e.runningOn("worker-1", Duration.ofSeconds(10)).stream()
                      .anyMatch(id -> submitted.values().stream().anyMatch(l -> l.contains(id))));
      e2e.cluster.workers().get(0).kill();

      List<String> all = new ArrayList<>(unkeyed);
      submitted.values().forEach(all::addAll);
      List<CompletableFuture<JobView>> finals =
          all.stream().map(id -> client.await(id, Duration.ofMinutes(4))).toList();
      CompletableFuture.allOf(finals.toArray(CompletableFuture[]::new)).get();
      Map<String, JobView> views = new LinkedHashMap<>();
      for (CompletableFuture<JobView> f : finals) {
        views.put(f.get().id(), f.get());
      }
      assertThat(views.values())
          .extracting(JobView::state)
          .as("every job's end")
          .containsOnly(JobState.SUCCEEDED);
      assertThat(views.values())
          .as("attempts taken back from the killed worker")
          .anySatisfy(
              job ->
                  assertThat(job.history())
                      .extracting(TransitionRecord::event)
                      .contains(JobEvent.LEASE_EXPIRED));

      for (var key : submitted.entrySet()) {
        List<JobView> jobs = key.getValue().stream().map(views::get).toList();
        assertThat(
                jobs.stream()
                    .sorted(Comparator.comparing(OrderingKeysE2EIT::succeededAt))
                    .map(JobView::id)
                    .toList())
            .as("jobs of %s, by when each succeeded", key.getKey())
            .containsExactlyElementsOf(key.getValue());
        for (int i = 1; i < jobs.size(); i++) {
          JobView before = jobs.get(i - 1);
          JobView job = jobs.get(i);
          assertThat(firstClaimAt(job))
              .as("%s first claimed %s, before %s succeeded", job.id(), key.getKey(), before.id())
              .isAfterOrEqualTo(succeededAt(before));
        }
      }
      e2e.assertNothingLeftOver();
    }
  }

  private static Instant succeededAt(JobView job) {
    return job.history().stream()
        .filter(h -> h.event() == JobEvent.SUCCEED)
        .map(TransitionRecord::at)
        .findFirst()
        .orElseThrow();
  }

  private static Instant firstClaimAt(JobView job) {
    return job.history().stream()
        .filter(h -> h.event() == JobEvent.CLAIM)
        .map(TransitionRecord::at)
        .findFirst()
        .orElseThrow();
  }
}
