package dev.shepherd.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.shepherd.client.ShepherdClient;
import dev.shepherd.client.ShepherdClientException;
import dev.shepherd.model.JobEvent;
import dev.shepherd.model.JobState;
import dev.shepherd.model.JobSubmission;
import dev.shepherd.model.JobView;
import dev.shepherd.model.Json;
import dev.shepherd.model.TransitionRecord;
import dev.shepherd.testsupport.ServiceEndpoints;
import dev.shepherd.testsupport.TestApiKeys;
import dev.shepherd.testsupport.TestNames;
import dev.shepherd.testsupport.WithRealServices;
import java.nio.file.Files;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import tools.jackson.databind.node.ObjectNode;

/**
 * Cancellation through the four services and two workers, each its own process: a job cancelled
 * while scheduled, while waiting to retry (over AMQP), while running in a handler that stops when
 * asked and in one that ignores it; then 1,000 jobs with a tenth of them cancelled at random
 * moments. Every job ends in exactly one terminal state, a cancelled one never SUCCEEDS, and no
 * lease or message is left.
 */
@WithRealServices
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class CancelE2EIT {

  private E2eSupport e2e;
  private ShepherdClient client;

  @BeforeAll
  void start(ServiceEndpoints endpoints, TestNames names) {
    e2e =
        new E2eSupport(
            endpoints,
            names.prefix(),
            2,
            Map.of(
                // a retry waits a minute: long enough to cancel a job in RETRY_WAIT
                "shepherd.store.retry-initial-backoff", "60s",
                "shepherd.store.lease-ttl", "6000ms",
                "shepherd.worker.cancel-grace", "2s"));
    client = e2e.cluster.client().amqpUri(endpoints.rabbitmq()).prefix(names.prefix()).build();
  }

  @AfterAll
  void stop() {
    if (client != null) {
      client.close();
    }
    if (e2e != null) {
      e2e.close();
    }
  }

  private JobView view(String id) {
    return client.get(id).orElseThrow();
  }

  private void awaitState(String id, JobState state) {
    await()
        .atMost(Duration.ofSeconds(30))
        .pollInterval(Duration.ofMillis(100))
        .until(() -> view(id).state() == state);
  }

  private static ObjectNode site(String site, int phaseMillis, boolean ignoreCancel) {
    ObjectNode payload =
        Json.mapper().createObjectNode().put("site", site).put("phaseMillis", phaseMillis);
    return ignoreCancel ? payload.put("ignoreCancel", true) : payload;
  }

  private static void assertCancelledOnce(JobView job, String by) {
    assertThat(job.state()).isEqualTo(JobState.CANCELLED);
    assertThat(job.cancelledBy()).isEqualTo(by);
    assertThat(job.history())
        .filteredOn(h -> h.to().isTerminal())
        .extracting(TransitionRecord::event)
        .containsExactly(JobEvent.CANCEL);
  }

  /** Whether some worker's log says the attempt holding {@code jobId} ended without reporting. */
  private boolean aWorkerDroppedTheOutcomeOf(String jobId) throws Exception {
    for (var worker : e2e.cluster.workers()) {
      for (String line : Files.readAllLines(worker.log())) {
        if (line.contains(jobId) && line.contains("its outcome is not reported")) {
          return true;
        }
      }
    }
    return false;
  }

  @Test
  void aJobCancelledWhileScheduledRetryingOrRunningEndsCancelledAndNeverRunsAgain()
      throws Exception {
    String scheduled =
        client
            .submit(
                JobSubmission.of("demo.noop", Json.mapper().createObjectNode())
                    .withNotBefore(Instant.now().plus(Duration.ofHours(1))))
            .jobId();
    assertThat(client.cancel(scheduled, "ops", "not needed"))
        .hasValueSatisfying(s -> assertThat(s).isIn(JobState.SUBMITTED, JobState.SCHEDULED));
    assertCancelledOnce(view(scheduled), TestApiKeys.ADMIN);
    assertThat(client.cancel(scheduled)).as("a second cancel changes nothing").isEmpty();

    String retrying =
        client
            .submit(
                JobSubmission.of(
                        "demo.flaky",
                        Json.mapper()
                            .createObjectNode()
                            .put("failFirstAttempts", 1)
                            .put("workMillis", 0))
                    .withMaxAttempts(3))
            .jobId();
    awaitState(retrying, JobState.RETRY_WAIT);
    client.cancelViaAmqp(retrying, "amqp-ops", "flood");
    awaitState(retrying, JobState.CANCELLED);
    assertCancelledOnce(view(retrying), TestApiKeys.BROKER_USER);
    assertThat(view(retrying).history().getLast().reason())
        .isEqualTo("cancelled by " + TestApiKeys.BROKER_USER + ": flood");

    // A handler that stops when asked (site.generate checks isCancelled between phases, and its
    // ten-minute phase ends at the interrupt after the grace).
    String cooperative =
        client.submit(JobSubmission.of("site.generate", site("a.example", 600_000, false))).jobId();
    awaitState(cooperative, JobState.RUNNING);
    assertThat(client.cancel(cooperative, "ops", null)).contains(JobState.RUNNING);
    assertCancelledOnce(view(cooperative), TestApiKeys.ADMIN);
    await()
        .atMost(Duration.ofSeconds(30))
        .pollInterval(Duration.ofMillis(200))
        .until(() -> aWorkerDroppedTheOutcomeOf(cooperative));

    // A handler that ignores the cancel runs its three 2 s phases to the end; what it would report
    // is dropped, and the job stays CANCELLED.
    String stubborn =
        client.submit(JobSubmission.of("site.generate", site("b.example", 2_000, true))).jobId();
    awaitState(stubborn, JobState.RUNNING);
    assertThat(client.cancel(stubborn, "ops", "ignored")).contains(JobState.RUNNING);
    await()
        .atMost(Duration.ofSeconds(30))
        .pollInterval(Duration.ofMillis(200))
        .until(() -> aWorkerDroppedTheOutcomeOf(stubborn));
    assertCancelledOnce(view(stubborn), TestApiKeys.ADMIN);
    assertThat(view(stubborn).history()).noneMatch(h -> h.event() == JobEvent.SUCCEED);

    assertThatThrownBy(
            () ->
                client.cancel(
                    client
                        .await(
                            client
                                .submit(
                                    JobSubmission.of("demo.noop", Json.mapper().createObjectNode()))
                                .jobId(),
                            Duration.ofSeconds(30))
                        .get()
                        .id()))
        .isInstanceOfSatisfying(
            ShepherdClientException.class, e -> assertThat(e.status()).isEqualTo(409));
    e2e.assertNothingLeftOver();
  }

  @Test
  void aThousandJobsWithATenthCancelledAtRandomMomentsEachEndInExactlyOneTerminalState()
      throws Exception {
    int jobs = 1_000;
    List<String> ids = new ArrayList<>();
    Map<String, Optional<JobState>> cancelledFrom = new ConcurrentHashMap<>();
    Map<String, Integer> refused = new ConcurrentHashMap<>();
    var random = ThreadLocalRandom.current();
    try (var cancels = Executors.newScheduledThreadPool(4)) {
      for (int i = 0; i < jobs; i++) {
        ObjectNode payload =
            Json.mapper()
                .createObjectNode()
                .put("workMillis", random.nextInt(0, 400))
                .put("failureProbability", 0.0);
        String id = client.submit(JobSubmission.of("demo.flaky", payload)).jobId();
        ids.add(id);
        if (random.nextInt(10) == 0) {
          cancels.schedule(
              () -> {
                try {
                  cancelledFrom.put(id, client.cancel(id, "chaos", "random moment"));
                } catch (ShepherdClientException e) {
                  refused.put(id, e.status());
                }
              },
              random.nextLong(0, 1_500),
              TimeUnit.MILLISECONDS);
        }
      }
      cancels.shutdown();
      assertThat(cancels.awaitTermination(1, TimeUnit.MINUTES)).isTrue();
    }
    OutcomeAudit.awaitAllTerminal(client, ids, Duration.ofMinutes(3));
    OutcomeAudit audit = OutcomeAudit.of(e2e.cluster.schedulerUri(), ids);

    Map<JobState, Integer> cancelledWhile = new EnumMap<>(JobState.class);
    cancelledFrom.values().forEach(s -> s.ifPresent(v -> cancelledWhile.merge(v, 1, Integer::sum)));
    System.out.printf(
        "CANCEL RESULT: %s; %d cancels applied (from %s), %d refused (%s)%n",
        audit.summary(), cancelledFrom.size(), cancelledWhile, refused.size(), refused.values());
    assertThat(audit.violations()).isEmpty();
    assertThat(audit.exactlyOneTerminal()).isEqualTo(jobs);
    assertThat(audit.count(JobState.DEAD)).isZero();
    assertThat(cancelledFrom.size() + refused.size())
        .as("every cancel was answered")
        .isGreaterThan(50);
    assertThat(refused.values())
        .as("a refused cancel met a finished job")
        .allMatch(status -> status == 409);
    for (String id : cancelledFrom.keySet()) {
      assertThat(audit.history(id).getLast().event()).as(id).isEqualTo("CANCEL");
    }
    for (String id : refused.keySet()) {
      assertThat(audit.history(id).getLast().event()).as(id).isEqualTo("SUCCEED");
    }
    assertThat(audit.count(JobState.CANCELLED)).isEqualTo(cancelledFrom.size());
    assertThat(audit.count(JobState.SUCCEEDED)).isEqualTo(jobs - cancelledFrom.size());
    e2e.assertNothingLeftOver();
  }
}
