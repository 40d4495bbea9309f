package dev.shepherd.e2e;

import static org.awaitility.Awaitility.await;

import dev.shepherd.client.ShepherdClient;
import dev.shepherd.e2e.metrics.Scrape;
import dev.shepherd.model.JobState;
import dev.shepherd.model.JobSubmission;
import dev.shepherd.model.JobView;
import dev.shepherd.model.Json;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.awaitility.core.ConditionTimeoutException;
import org.springframework.amqp.core.MessageBuilder;
import org.springframework.amqp.rabbit.core.RabbitTemplate;

/**
 * Forged outcomes against LIVE jobs: while two long jobs run their first attempt, a SUCCEEDED and a
 * permanent FAILED carrying a wrong fencing token are published for them, as a confused or
 * malicious worker would, under the id of the worker that runs each (so only the token, not the
 * token's binding to its worker, can refuse them). The fencing check must refuse both (counted as
 * stale reports), leave the jobs RUNNING, and let each end from its real attempt. Returns every way
 * that went wrong, so that a test can require none ({@link BadInputE2EIT}) or, with the check
 * removed from the report script, require some ({@link FencingMutationE2EIT}).
 */
final class ForgedReports {

  static final Instant FORGED_AT = Instant.parse("2026-01-01T00:00:00Z");
  private static final String TYPE = "site.generate";
  private static final String STALE = "shepherd_status_stale_reports_total";

  private ForgedReports() {}

  static List<String> againstRunningJobs(E2eSupport e2e, ShepherdClient client) throws Exception {
    List<String> violations = new ArrayList<>();
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < 2; i++) {
      // three phases of 2 s: running long enough to be forged against, short of any lease TTL
      var payload =
          Json.mapper().createObjectNode().put("site", "forged-" + i).put("phaseMillis", 2000);
      ids.add(client.submit(JobSubmission.of(TYPE, payload)).jobId());
    }
    await()
        .atMost(Duration.ofSeconds(60))
        .until(
            () ->
                ids.stream()
                    .map(id -> client.get(id).orElseThrow())
                    .allMatch(j -> j.state() == JobState.RUNNING && j.attempt() == 1));
    var tracker = List.of(e2e.cluster.httpUris().get("status-tracker"));
    double staleBefore = Scrape.of(tracker).sum(STALE);

    var template = new RabbitTemplate(e2e.rabbit);
    publish(e2e, template, "SUCCEEDED", succeeded(ids.get(0), runner(client, ids.get(0))));
    publish(e2e, template, "FAILED", failed(ids.get(1), runner(client, ids.get(1))));
    // Waits until the outcome is known: both forgeries counted stale, or a job no longer RUNNING
    // its first attempt, which the check below reports as ended by a forged report. With the token
    // check gone the count never gets there, and the full 20 s would only add time. The count is
    // judged after the wait, however it ended.
    try {
      await()
          .atMost(Duration.ofSeconds(20))
          .until(
              () ->
                  Scrape.of(tracker).sum(STALE) >= staleBefore + 2
                      || leftFirstAttempt(client, ids));
    } catch (ConditionTimeoutException e) {
      // neither within 20 s: the count is reported just below
    }
    double counted = Scrape.of(tracker).sum(STALE) - staleBefore;
    if (counted < 2) {
      violations.add("the forged reports were not counted stale: " + counted + " of 2");
    }
    for (String id : ids) {
      JobView now = client.get(id).orElseThrow();
      if (now.state() != JobState.RUNNING || now.attempt() != 1) {
        violations.add(
            id + ": a forged report ended it: " + now.state() + " attempt " + now.attempt());
      }
    }

    List<CompletableFuture<JobView>> finals =
        ids.stream().map(id -> client.await(id, Duration.ofMinutes(2))).toList();
    CompletableFuture.allOf(finals.toArray(CompletableFuture[]::new)).get();
    for (CompletableFuture<JobView> f : finals) {
      JobView job = f.get();
      if (job.state() != JobState.SUCCEEDED || job.attempt() != 1) {
        violations.add(job.id() + ": ended " + job.state() + " at attempt " + job.attempt());
      }
      if (FORGED_AT.equals(job.finishedAt())) {
        violations.add(job.id() + ": finished at the forged report's time");
      }
    }
    OutcomeAudit audit = OutcomeAudit.of(e2e.cluster.schedulerUri(), ids);
    violations.addAll(audit.violations());
    return violations;
  }

  /** Whether any of the jobs is no longer RUNNING its first attempt. */
  private static boolean leftFirstAttempt(ShepherdClient client, List<String> ids) {
    return ids.stream()
        .map(id -> client.get(id).orElseThrow())
        .anyMatch(j -> j.state() != JobState.RUNNING || j.attempt() != 1);
  }

  private static void publish(E2eSupport e2e, RabbitTemplate template, String event, String body) {
    template.send(
        e2e.topology.statusExchange(),
        e2e.topology.statusRoutingKey(TYPE, event),
        // a worker's user (the tests' guest): the token, not the sender, must refuse it
        MessageBuilder.withBody(body.getBytes(java.nio.charset.StandardCharsets.UTF_8))
            .setUserId(dev.shepherd.testsupport.TestApiKeys.BROKER_USER)
            .build());
  }

  /** The worker that runs the job's attempt now. */
  private static String runner(ShepherdClient client, String jobId) {
    return client.get(jobId).orElseThrow().workerId();
  }

  /**
   * A sequence far above any the real attempt reaches and the real worker's id, so only the token
   * can refuse it.
   */
  private static String fields(String event, String jobId, String workerId) {
    return "{\"event\":\""
        + event
        + "\",\"jobId\":\""
        + jobId
        + "\",\"type\":\""
        + TYPE
        + "\",\"attempt\":1,\"fencingToken\":7,\"sequence\":1000000,\"workerId\":\""
        + workerId
        + "\",\"at\":\""
        + FORGED_AT
        + "\"";
  }

  private static String succeeded(String jobId, String workerId) {
    return fields("SUCCEEDED", jobId, workerId) + "}";
  }

  private static String failed(String jobId, String workerId) {
    return fields("FAILED", jobId, workerId) + ",\"error\":\"forged\",\"retryable\":false}";
  }
}
