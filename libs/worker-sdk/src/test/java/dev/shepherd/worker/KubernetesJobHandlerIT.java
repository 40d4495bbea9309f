package dev.shepherd.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.shepherd.distribution.AttemptRequest;
import dev.shepherd.distribution.DistributorCalls;
import dev.shepherd.distribution.DistributorConfig;
import dev.shepherd.distribution.http.CallbackSignatures;
import dev.shepherd.distribution.kubernetes.KubernetesJobDistributor;
import dev.shepherd.messaging.OutgoingMessage;
import dev.shepherd.model.JobState;
import dev.shepherd.model.Json;
import dev.shepherd.model.StatusEvent;
import dev.shepherd.model.WorkMessage;
import dev.shepherd.model.WorkerControl;
import dev.shepherd.store.CancelResult;
import dev.shepherd.store.ClaimResult;
import dev.shepherd.store.NewJob;
import dev.shepherd.testsupport.WithRealServices;
import io.fabric8.kubernetes.api.model.ContainerStatusBuilder;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.PodStatusBuilder;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.api.model.batch.v1.JobConditionBuilder;
import io.fabric8.kubernetes.api.model.batch.v1.JobStatus;
import io.fabric8.kubernetes.api.model.batch.v1.JobStatusBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A job type run as a Kubernetes Job per attempt through the {@code kubernetes-job} distributor, by
 * an ordinary worker on the real broker and Redis, against fabric8's mock API server in CRUD mode:
 * the test plays the Job controller and the kubelet, writing the Job's and its pod's status, and
 * the worker learns the outcome from the Job's status alone (no callback). Outcomes are applied to
 * the store as the status-tracker does.
 */
@WithRealServices
@EnableKubernetesMockClient(crud = true)
class KubernetesJobHandlerIT extends WorkerRuntimeFixture {

  private static final String TYPE = "test.plain";
  private static final String WORKER = "w-0";
  private static final String NAMESPACE = "work";
  private static final DistributorConfig CONFIG =
      new DistributorConfig(
          KubernetesJobDistributor.NAME,
          Map.of("namespace", NAMESPACE, "image", "registry.example/render:1"));

  KubernetesClient client;

  private final RemoteReports reports = new RemoteReports();
  private KubernetesJobDistributor distributor;

  @AfterEach
  void closeDistributor() {
    if (distributor != null) {
      distributor.close();
    }
  }

  @Test
  void theJobSucceedsWhenItsKubernetesJobCompletes() {
    startWorker(DistributorCalls.DEFAULT_VISIBILITY_GRACE);
    WorkMessage work = dispatch(TYPE, "{\"report\":7}");

    Job job = awaitJob(work.jobId());
    Map<String, String> env =
        job.getSpec().getTemplate().getSpec().getContainers().getFirst().getEnv().stream()
            .collect(Collectors.toMap(EnvVar::getName, EnvVar::getValue));
    assertThat(env)
        .containsEntry("SHEPHERD_JOB_ID", work.jobId())
        .containsEntry("SHEPHERD_ATTEMPT", "1")
        .containsEntry("SHEPHERD_PAYLOAD", "{\"report\":7}");
    controller(job, new JobStatusBuilder().withActive(1).withReady(1).build());
    controller(
        job,
        new JobStatusBuilder()
            .withSucceeded(1)
            .withConditions(
                new JobConditionBuilder().withType("Complete").withStatus("True").build())
            .build());

    List<Received> events = awaitEvents(work.jobId(), this::hasOutcome);
    assertThat(events).extracting(r -> r.event().eventName()).containsExactly("SUCCEEDED");
    assertThat(events.getFirst().event().fencingToken())
        .as("the Job was given the worker's claim")
        .isEqualTo(Long.parseLong(env.get("SHEPHERD_FENCING_TOKEN")));
    applyAsTheTrackerDoes(events);
    assertThat(store.queries().find(work.jobId()).orElseThrow().state())
        .isEqualTo(JobState.SUCCEEDED);
    assertThat(jobs()).as("a finished Job is left to its TTL").hasSize(1);
    assertThat(reports.openCount()).isZero();
  }

  @Test
  void anOomKilledPodSendsTheJobToRetryWithThePodsReason() {
    startWorker(DistributorCalls.DEFAULT_VISIBILITY_GRACE);
    WorkMessage work = dispatch(TYPE, "{}");
    Job job = awaitJob(work.jobId());

    client
        .pods()
        .inNamespace(NAMESPACE)
        .resource(
            new PodBuilder()
                .withNewMetadata()
                .withName(job.getMetadata().getName() + "-x7k2p")
                .withLabels(job.getSpec().getTemplate().getMetadata().getLabels())
                .endMetadata()
                .withSpec(job.getSpec().getTemplate().getSpec())
                .withStatus(
                    new PodStatusBuilder()
                        .withPhase("Failed")
                        .withContainerStatuses(
                            new ContainerStatusBuilder()
                                .withName("task")
                                .withNewState()
                                .withNewTerminated()
                                .withExitCode(137)
                                .withReason("OOMKilled")
                                .endTerminated()
                                .endState()
                                .build())
                        .build())
                .build())
        .create();
    controller(
        job,
        new JobStatusBuilder()
            .withFailed(1)
            .withConditions(
                new JobConditionBuilder()
                    .withType("Failed")
                    .withStatus("True")
                    .withReason("BackoffLimitExceeded")
                    .build())
            .build());

    List<Received> events = awaitEvents(work.jobId(), this::hasOutcome);
    assertThat(events.getLast().event())
        .isInstanceOfSatisfying(
            StatusEvent.Failed.class,
            f -> {
              assertThat(f.error()).isEqualTo("OOMKilled (exit code 137)");
              assertThat(f.retryable()).isTrue();
            });
    applyAsTheTrackerDoes(events);
    var view = store.queries().find(work.jobId()).orElseThrow();
    assertThat(view.state()).isEqualTo(JobState.RETRY_WAIT);
    assertThat(view.lastError()).isEqualTo("OOMKilled (exit code 137)");
  }

  @Test
  void aJobDeletedByHandFailsTheAttemptAsMissingOnceTheGraceHasPassed() {
    startWorker(Duration.ofSeconds(1));
    WorkMessage work = dispatch(TYPE, "{}");
    Job job = awaitJob(work.jobId());

    client.batch().v1().jobs().inNamespace(NAMESPACE).resource(job).delete();

    List<Received> events = awaitEvents(work.jobId(), this::hasOutcome);
    assertThat(events.getLast().event())
        .isInstanceOfSatisfying(
            StatusEvent.Failed.class,
            f -> {
              assertThat(f.error())
                  .startsWith("missing: Job work/" + job.getMetadata().getName())
                  .contains("does not exist");
              assertThat(f.retryable()).isTrue();
            });
  }

  @Test
  void cancellingTheJobDeletesItsKubernetesJobAndReportsNothing() {
    startWorker(DistributorCalls.DEFAULT_VISIBILITY_GRACE);
    WorkMessage work = dispatch(TYPE, "{}");
    awaitJob(work.jobId());

    CancelResult cancel = store.cancels().cancel(work.jobId(), "alice", "wrong report");
    publisher.publish(
        new OutgoingMessage(
            topology.controlExchange(),
            topology.workerControlRoutingKey(cancel.workerId()),
            "order",
            Json.mapper()
                .writeValueAsBytes(
                    new WorkerControl(
                        WorkerControl.Kind.CANCEL,
                        work.jobId(),
                        cancel.fencingToken(),
                        "alice",
                        "wrong report")),
            Map.of()));

    await().atMost(WAIT).until(() -> jobs().isEmpty());
    await().atMost(WAIT).until(() -> reports.openCount() == 0);
    assertThat(drain(work.jobId())).isEmpty();
  }

  /**
   * Issue 16's restart case: a worker claimed attempt 1, created its Job and died. Its lease runs
   * out, recovery takes the job back, and the worker that claims attempt 2 adopts the Job that
   * still runs instead of starting the work a second time; the Job's success is attempt 2's
   * outcome.
   */
  @Test
  void aJobWhoseWorkerDiedWhileItsKubernetesJobRanIsAdoptedByTheNextAttemptNotRunTwice() {
    String id =
        store.submissions().submit(new NewJob(TYPE, "default", "{}", null, null, 3)).jobId();
    int partition = store.keys().partitionOf(id);
    store
        .outbox()
        .markDispatched(
            partition, store.outbox().reserveDue(partition, 100, Duration.ofSeconds(30)));
    long deadToken =
        ((ClaimResult.Claimed) store.leases().claim(id, 1, "w-dead", Duration.ofMillis(300)))
            .fencingToken();
    try (var deadWorkers = newDistributor()) {
      deadWorkers.run(
          new AttemptRequest(
              id, TYPE, 1, deadToken, Json.mapper().createObjectNode(), CONFIG, null));
    }
    Job first = awaitJob(id);
    controller(first, new JobStatusBuilder().withActive(1).withReady(1).build());
    await()
        .atMost(WAIT)
        .until(
            () -> store.leaseRecovery().reapExpiredLeases(partition, 10, Duration.ZERO),
            reaped -> !reaped.isEmpty());

    startWorker(DistributorCalls.DEFAULT_VISIBILITY_GRACE);
    WorkMessage second = publishDue(id);
    assertThat(second.attempt()).isEqualTo(2);
    await()
        .atMost(WAIT)
        .until(() -> store.queries().find(id).orElseThrow().state() == JobState.RUNNING);
    controller(
        first,
        new JobStatusBuilder()
            .withSucceeded(1)
            .withConditions(
                new JobConditionBuilder().withType("Complete").withStatus("True").build())
            .build());

    List<Received> events = awaitEvents(id, this::hasOutcome);
    StatusEvent outcome = events.getLast().event();
    assertThat(outcome.eventName()).isEqualTo("SUCCEEDED");
    assertThat(outcome.attempt()).isEqualTo(2);
    assertThat(outcome.fencingToken()).as("the new claim's").isGreaterThan(deadToken);
    assertThat(jobs())
        .as("the running Job was adopted, not started again")
        .singleElement()
        .satisfies(
            j -> assertThat(j.getMetadata().getName()).isEqualTo(first.getMetadata().getName()));
    applyAsTheTrackerDoes(events);
    assertThat(store.queries().find(id).orElseThrow().state()).isEqualTo(JobState.SUCCEEDED);
  }

  // ---- the worker, and the Job controller's part ----------------------------------------------

  private KubernetesJobDistributor newDistributor() {
    return new KubernetesJobDistributor(
        client,
        new CallbackSignatures(
            "a server key of at least 32 bytes, as the scheduler has"
                .getBytes(StandardCharsets.UTF_8),
            CallbackSignatures.DEFAULT_TOLERANCE,
            Clock.systemUTC()),
        URI.create("http://scheduler.test:8080"));
  }

  private void startWorker(Duration visibilityGrace) {
    distributor = newDistributor();
    var calls =
        new DistributorCalls(
            3,
            Duration.ofMillis(50),
            Duration.ofMillis(200),
            visibilityGrace,
            DistributorCalls.Sleeper.THREAD,
            Clock.systemUTC());
    var handler =
        new DistributedHandler(
            TYPE,
            distributor,
            CONFIG,
            calls,
            reports,
            Clock.systemUTC(),
            null,
            Duration.ofMillis(200));
    var runtime =
        new WorkerRuntime(
            new WorkerSettings(WORKER, "default", 1, Duration.ofSeconds(30)),
            store.leases(),
            store.deadJobs(),
            topology,
            publisher,
            rabbit,
            List.of(handler),
            reports,
            registry(),
            Clock.systemUTC(),
            meters);
    runtimes.add(runtime);
    runtime.start();
    await()
        .atMost(WAIT)
        .ignoreExceptions()
        .until(() -> consumers(topology.workerControlQueue(WORKER)) == 1);
  }

  private List<Job> jobs() {
    return client.batch().v1().jobs().inNamespace(NAMESPACE).list().getItems();
  }

  private Job awaitJob(String jobId) {
    return await()
        .atMost(WAIT)
        .until(
            () ->
                client
                    .batch()
                    .v1()
                    .jobs()
                    .inNamespace(NAMESPACE)
                    .withLabel("shepherd.dev/job-id", jobId)
                    .list()
                    .getItems(),
            jobs -> jobs.size() == 1)
        .getFirst();
  }

  /** The Job controller's part: sets the Job's status. */
  private void controller(Job created, JobStatus status) {
    Job job =
        client
            .batch()
            .v1()
            .jobs()
            .inNamespace(NAMESPACE)
            .withName(created.getMetadata().getName())
            .get();
    job.setStatus(status);
    client.batch().v1().jobs().inNamespace(NAMESPACE).resource(job).updateStatus();
  }

  /** The status-tracker's part: applies the worker's events to the job, retries due at once. */
  private void applyAsTheTrackerDoes(List<Received> events) {
    events.forEach(r -> store.reports().report(r.event(), Duration.ZERO));
  }
}
