package dev.shepherd.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;
import static org.awaitility.Awaitility.await;

import dev.shepherd.client.ShepherdClient;
import dev.shepherd.model.AttemptTask;
import dev.shepherd.model.JobState;
import dev.shepherd.model.JobSubmission;
import dev.shepherd.model.JobTimeouts;
import dev.shepherd.model.JobView;
import dev.shepherd.model.Json;
import dev.shepherd.testsupport.ServiceEndpoints;
import dev.shepherd.testsupport.TestNames;
import dev.shepherd.testsupport.WithRealServices;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * A job type that runs on an HTTP service (the {@code http} distributor, issue 16, ADR 44 and 45),
 * with every service a process of its own and the service ({@link RenderService}) in the test: a
 * worker claims each attempt and POSTs it; the service answers 202 and reports by signed callbacks
 * to the scheduler, which hands them to the worker. A job whose service reports a phase, progress
 * and success SUCCEEDS with them recorded; one whose first attempt fails runs again with a new
 * token, and its first attempt's late callback is refused (409); forged and replayed callbacks are
 * refused (401) while the genuine one ends the job; one whose service never calls back ends by its
 * status URL; a cancelled job's task is deleted; and a service that never calls back is timed out
 * by the stall timeout on each attempt, its tasks deleted, and the job ends DEAD.
 */
@WithRealServices
class HttpDistributorE2EIT {

  private static final String TYPE = "report.render";
  private static final String SERVER_KEY = "http-distributor-e2e-server-key-0123456789";
  private static final Duration WAIT = Duration.ofSeconds(60);

  @Test
  void aJobTypeRunsOnAnHttpServiceWithEveryGuaranteeOfAWorkersHandler(
      ServiceEndpoints endpoints, TestNames names) throws Exception {
    try (var service = new RenderService();
        var e2e =
            new E2eSupport(
                endpoints,
                names.prefix(),
                0,
                Map.of(
                    "shepherd.distribution.server-key", SERVER_KEY,
                    "shepherd.store.lease-ttl", "6000ms",
                    "shepherd.store.retry-initial-backoff", "50ms",
                    "shepherd.worker.cancel-grace", "1s"));
        var client = e2e.cluster.client().build()) {
      e2e.cluster.addWorker(
          Map.of(
              "shepherd.worker.capacity",
              "16",
              "shepherd.distribution.callback-url",
              e2e.cluster.schedulerUri().toString(),
              "shepherd.distribution.types[" + TYPE + "].distributor",
              "http",
              "shepherd.distribution.types[" + TYPE + "].settings.endpoint",
              service.endpoint().toString(),
              "shepherd.distribution.types[" + TYPE + "].settings.infoUrl",
              service.endpoint() + "/{jobId}",
              "shepherd.distribution.types[" + TYPE + "].settings.statusUrl",
              service.endpoint() + "/{task}"));
      await()
          .atMost(WAIT)
          .until(
              () -> client.types().stream().anyMatch(t -> t.type().equals(TYPE)),
              announced -> announced);

      // a phase, progress and success, reported by the service
      String succeeds = submit(client, "succeed", 3, null);
      JobView done = awaitState(client, succeeds, JobState.SUCCEEDED);
      assertThat(done.attempt()).isEqualTo(1);
      assertThat(done.progressPercent()).isEqualTo(50);
      assertThat(done.phases()).extracting(p -> p.name()).containsExactly("render");
      assertThat(done.phases().get(0).endedAt()).isNotNull();
      var run = service.runsOf(succeeds).get(0);
      assertThat(run.idempotencyKey())
          .isEqualTo(succeeds + "." + run.attempt() + "." + run.fencingToken());
      assertThat(service.answers.get(succeeds)).containsOnly(202);
      assertThat(done.tasks())
          .as("where the attempt ran and the settings it ran under, in the job view")
          .containsExactly(
              new AttemptTask(
                  1,
                  "http",
                  run.idempotencyKey(),
                  service.endpoint() + "/" + succeeds,
                  Map.of(
                      "endpoint",
                      service.endpoint().toString(),
                      "infoUrl",
                      service.endpoint() + "/{jobId}",
                      "statusUrl",
                      service.endpoint() + "/{task}")));

      // the first attempt fails; the second runs with a newer token; the first's late report is
      // refused
      String retried = submit(client, "fail-first", 3, null);
      assertThat(awaitState(client, retried, JobState.SUCCEEDED).attempt()).isEqualTo(2);
      var first = service.runsOf(retried).get(0);
      var second = service.runsOf(retried).get(1);
      assertThat(second.fencingToken()).isGreaterThan(first.fencingToken());
      assertThat(client.get(retried).orElseThrow().tasks())
          .extracting(AttemptTask::attempt, AttemptTask::task)
          .containsExactly(tuple(1, first.idempotencyKey()), tuple(2, second.idempotencyKey()));
      assertThat(service.callBack(first, RenderService.event(first, "SUCCEEDED", 9)))
          .as("a callback of the attempt that was replaced")
          .isEqualTo(409);

      // a service whose callbacks never come: its status URL says the task succeeded
      String polled = submit(client, "status-only", 1, null);
      assertThat(awaitState(client, polled, JobState.SUCCEEDED).attempt()).isEqualTo(1);
      assertThat(service.answers.get(polled)).as("no callback was made").isNull();

      // forged and replayed callbacks are refused; the genuine one ends the job
      String held = submit(client, "hold", 3, null);
      var holding =
          await().atMost(WAIT).until(() -> service.runsOf(held), r -> !r.isEmpty()).get(0);
      awaitState(client, held, JobState.RUNNING);
      String forgedSecret = HexFormat.of().formatHex(new byte[32]);
      assertThat(
              service.callBack(
                  holding,
                  RenderService.event(holding, "SUCCEEDED", 1),
                  forgedSecret,
                  Instant.now()))
          .as("signed with a secret the attempt was not given")
          .isEqualTo(401);
      assertThat(
              service.callBack(
                  holding,
                  RenderService.event(holding, "SUCCEEDED", 1),
                  holding.callbackSecret(),
                  Instant.now().minus(Duration.ofMinutes(10))))
          .as("replayed ten minutes later")
          .isEqualTo(401);
      assertThat(client.get(held).orElseThrow().state()).isEqualTo(JobState.RUNNING);
      assertThat(service.callBack(holding, RenderService.event(holding, "SUCCEEDED", 1)))
          .isEqualTo(202);
      awaitState(client, held, JobState.SUCCEEDED);

      // a cancelled job's task is deleted at the service
      String cancelled = submit(client, "hold", 3, null);
      var task =
          await().atMost(WAIT).until(() -> service.runsOf(cancelled), r -> !r.isEmpty()).get(0);
      awaitState(client, cancelled, JobState.RUNNING);
      client.cancel(cancelled, "e2e", "no longer wanted");
      await().atMost(WAIT).until(() -> service.cancels.contains(task.idempotencyKey()));
      assertThat(client.get(cancelled).orElseThrow().state()).isEqualTo(JobState.CANCELLED);

      // a service that never calls back: the stall timeout ends each attempt, the worker deletes
      // its task, and the job ends DEAD naming the timeout
      String silent = submit(client, "silent", 2, new JobTimeouts(null, Duration.ofSeconds(3)));
      JobView dead = awaitState(client, silent, JobState.DEAD);
      assertThat(dead.lastError()).contains("timeout:stall");
      assertThat(service.runsOf(silent)).hasSize(2);
      await()
          .atMost(WAIT)
          .untilAsserted(
              () ->
                  assertThat(service.cancels)
                      .containsAll(
                          service.runsOf(silent).stream()
                              .map(RenderService.Received::idempotencyKey)
                              .toList()));

      e2e.assertNothingLeftOver();
    }
  }

  private static String submit(
      ShepherdClient client, String mode, int maxAttempts, JobTimeouts timeouts) {
    var payload = Json.mapper().createObjectNode().put("mode", mode);
    var submission = JobSubmission.of(TYPE, payload).withMaxAttempts(maxAttempts);
    if (timeouts != null) {
      submission = submission.withTimeouts(timeouts);
    }
    return client.submit(submission).jobId();
  }

  private static JobView awaitState(ShepherdClient client, String id, JobState state) {
    return await()
        .atMost(WAIT)
        .until(() -> client.get(id).orElseThrow(), job -> job.state() == state);
  }
}
