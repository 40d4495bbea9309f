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
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/**
 * Jobs with ordering keys, run by every service as its own process, with random transient failures
 * and a worker SIGKILLed while it runs keyed jobs (ADR 29): for every key the jobs succeed in the
 * order they were submitted, and no job of a key is claimed before the one before it has succeeded,
 * checked from the jobs' histories. Unkeyed jobs run beside them.
 */
@WithRealServices
class JobKeysE2EIT {

  /** Ordering keys: 8 here, 50 in {@code make chaos} ({@code -Dshepherd.keys.ordering-keys}). */
  private static final int KEYS = Integer.getInteger("shepherd.keys.ordering-keys", 8);

  /** Jobs of each: 12 here, 100 in {@code make chaos} ({@code -Dshepherd.keys.jobs-per-key}). */
  private static final int JOBS_PER_KEY = Integer.getInteger("shepherd.keys.jobs-per-key", 12);

  private static final int UNKEYED = 24;
  private static final int CONCURRENCY_KEYS = 2;
  private static final int CONCURRENCY_LIMIT = 2;

  /** Jobs of each concurrency key submitted with each round of ordering keys' jobs. */
  private static final int CAPPED_PER_ROUND = 2;

  private static final Duration LEASE_TTL = Duration.ofSeconds(3);

  @Test
  void orderingKeysKeepSubmissionOrderAndConcurrencyKeysTheirLimitThroughFailuresAndAWorkerKill(
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
                    "50ms",
                    "shepherd.scheduler.default-concurrency-limit",
                    Integer.toString(CONCURRENCY_LIMIT)));
        var client = ShepherdClient.builder().httpBaseUri(e2e.cluster.schedulerUri()).build()) {
      // submitted one after the other, the keys interleaved: each key's order is the order here
      Map<String, List<String>> submitted = new LinkedHashMap<>();
      List<String> unkeyed = new ArrayList<>();
      List<String> capped = new ArrayList<>();
      var payload =
          Json.mapper().createObjectNode().put("failureProbability", 0.2).put("workMillis", 150);
      for (int n = 0; n < JOBS_PER_KEY; n++) {
        for (int k = 0; k < KEYS; k++) {
          String key = "customer-" + k;
          var job =
              JobSubmission.of("demo.flaky", payload).withMaxAttempts(20).withOrderingKey(key);
          submitted.computeIfAbsent(key, x -> new ArrayList<>()).add(client.submit(job).jobId());
        }
        for (int c = 0; c < CONCURRENCY_KEYS; c++) {
          for (int i = 0; i < CAPPED_PER_ROUND; i++) {
            capped.add(
                client
                    .submit(
                        JobSubmission.of("demo.flaky", payload)
                            .withMaxAttempts(20)
                            .withConcurrencyKey("tenant-" + c))
                    .jobId());
          }
        }
        if (n < UNKEYED / 2) {
          for (int u = 0; u < 2; u++) {
            unkeyed.add(
                client.submit(JobSubmission.of("demo.flaky", payload).withMaxAttempts(20)).jobId());
          }
        }
      }

      // a key whose destination is down for its head's first three attempts
      var failing =
          Json.mapper()
              .createObjectNode()
              .put("failFirstAttempts", 3)
              .put("failureProbability", 0.0)
              .put("workMillis", 50);
      var healthy = Json.mapper().createObjectNode().put("failureProbability", 0.0);
      List<String> downKey = new ArrayList<>();
      downKey.add(client.submit(keyed(failing, "down-0")).jobId());
      for (int i = 0; i < 5; i++) {
        downKey.add(client.submit(keyed(healthy, "down-0")).jobId());
      }
      submitted.put("down-0", downKey);

      // the worker dies while it runs a keyed job: the key's next job must wait for its retry
      await()
          .atMost(Duration.ofSeconds(60))
          .until(
              () ->
                  e2e.runningOn("worker-1", Duration.ofSeconds(10)).stream()
                      .anyMatch(id -> submitted.values().stream().anyMatch(l -> l.contains(id))));
      e2e.cluster.workers().get(0).kill();

      List<String> all = new ArrayList<>(unkeyed);
      all.addAll(capped);
      submitted.values().forEach(all::addAll);
      // one job read at a time, as the chaos test does: thousands of awaits polling at once
      // flooded the scheduler (256 MB heap in tests) until it ran out of memory
      OutcomeAudit.awaitAllTerminal(client, all, Duration.ofMinutes(4 + all.size() / 500));
      Map<String, JobView> views = new LinkedHashMap<>();
      for (String id : all) {
        views.put(id, client.get(id).orElseThrow());
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
                    .sorted(Comparator.comparing(JobKeysE2EIT::succeededAt))
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
      assertThat(views.get(downKey.get(0)).attempt())
          .as("the failing head's attempts")
          .isEqualTo(4);
      assertThat(downKey.subList(1, downKey.size()))
          .as("jobs that waited behind the failing head used one attempt each")
          .allSatisfy(id -> assertThat(views.get(id).attempt()).isEqualTo(1));
      var recovered = client.orderingKey("down-0");
      assertThat(recovered.state()).as("the key after its head succeeded").isEqualTo("UP");
      assertThat(recovered.backlog()).isZero();

      Map<String, Integer> most = new LinkedHashMap<>();
      for (String id : capped) {
        JobView job = views.get(id);
        most.merge(job.concurrencyKey(), 0, Integer::sum);
      }
      for (String key : most.keySet()) {
        List<JobView> jobs =
            capped.stream().map(views::get).filter(j -> key.equals(j.concurrencyKey())).toList();
        most.put(key, mostRunningAtOnce(jobs));
      }
      assertThat(most)
          .as("the most attempts of each concurrency key running at once")
          .hasSize(CONCURRENCY_KEYS)
          .allSatisfy((key, n) -> assertThat(n).as(key).isLessThanOrEqualTo(CONCURRENCY_LIMIT))
          .containsValue(CONCURRENCY_LIMIT);
      System.out.printf(
          "KEYS RESULT: %d ordering keys x %d jobs in submission order, %d concurrency-key jobs"
              + " (most at once %s, limit %d), %d unkeyed; %d jobs, all SUCCEEDED%n",
          submitted.size(),
          JOBS_PER_KEY,
          capped.size(),
          most.values(),
          CONCURRENCY_LIMIT,
          unkeyed.size(),
          views.size());
      e2e.assertNothingLeftOver();
    }
  }

  /**
   * The most attempts of these jobs that ran at once, from their histories: each attempt runs from
   * its claim until the line that ended it (an outcome, a retry, its lease taken back).
   */
  private static int mostRunningAtOnce(List<JobView> jobs) {
    List<long[]> changes = new ArrayList<>(); // {epoch ms, +1 for a start or -1 for an end}
    for (JobView job : jobs) {
      boolean running = false;
      for (TransitionRecord line : job.history()) {
        if (line.to() == JobState.RUNNING && !running) {
          changes.add(new long[] {line.at().toEpochMilli(), 1});
          running = true;
        } else if (running && line.to() != JobState.RUNNING) {
          changes.add(new long[] {line.at().toEpochMilli(), -1});
          running = false;
        }
      }
      assertThat(running).as("%s still runs an attempt", job.id()).isFalse();
    }
    // at one millisecond an end comes before a start: the slot was handed over
    changes.sort(Comparator.<long[]>comparingLong(c -> c[0]).thenComparingLong(c -> c[1]));
    int now = 0;
    int most = 0;
    for (long[] change : changes) {
      now += (int) change[1];
      most = Math.max(most, now);
    }
    return most;
  }

  private static JobSubmission keyed(JsonNode payload, String key) {
    return JobSubmission.of("demo.flaky", payload).withMaxAttempts(20).withOrderingKey(key);
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
