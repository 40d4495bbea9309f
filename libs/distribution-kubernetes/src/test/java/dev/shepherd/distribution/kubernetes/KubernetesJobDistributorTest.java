package dev.shepherd.distribution.kubernetes;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.shepherd.distribution.AttemptRequest;
import dev.shepherd.distribution.DistributorCalls;
import dev.shepherd.distribution.DistributorConfig;
import dev.shepherd.distribution.InvalidDistributorConfigException;
import dev.shepherd.distribution.InvalidDistributorConfigException.Problem;
import dev.shepherd.distribution.PermanentDistributorException;
import dev.shepherd.distribution.Started;
import dev.shepherd.distribution.TaskStatus;
import dev.shepherd.distribution.TaskToken;
import dev.shepherd.distribution.http.CallbackSignatures;
import dev.shepherd.model.Json;
import dev.shepherd.testsupport.SettableClock;
import io.fabric8.kubernetes.api.model.ContainerStatusBuilder;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.PodStatus;
import io.fabric8.kubernetes.api.model.PodStatusBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.api.model.batch.v1.JobConditionBuilder;
import io.fabric8.kubernetes.api.model.batch.v1.JobStatus;
import io.fabric8.kubernetes.api.model.batch.v1.JobStatusBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.http.RecordedRequest;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The kubernetes-job distributor against fabric8's mock API server in CRUD mode, the test playing
 * the Job controller and the kubelet: it writes the Job's and the pod's status as they would.
 */
@EnableKubernetesMockClient(crud = true)
class KubernetesJobDistributorTest {

  private static final String NAMESPACE = "work";
  private static final String JOB = "07-3f2a9c0d4e5f60718293a4b5c6d7e8f9";
  private static final Duration WAIT = Duration.ofSeconds(10);
  private static final byte[] KEY =
      "a server key of at least 32 bytes, as the scheduler has".getBytes(StandardCharsets.UTF_8);

  KubernetesClient client;
  KubernetesMockServer server;

  private final CallbackSignatures signatures =
      new CallbackSignatures(KEY, CallbackSignatures.DEFAULT_TOLERANCE, Clock.systemUTC());
  private KubernetesJobDistributor distributor;

  @BeforeEach
  void setUp() {
    distributor =
        new KubernetesJobDistributor(
            client, signatures, URI.create("http://scheduler.work.svc:8080"));
  }

  @AfterEach
  void tearDown() {
    MockApiServerTeardown.closeCaughtUp(distributor, client, WAIT);
    // before the extension stops the server: no connection of the client's is left open
    client.close();
  }

  // ---- settings ------------------------------------------------------------------------------

  @Test
  void aTypeWithEverySettingRightIsValid() {
    assertThatCode(() -> distributor.validate("report.render", config(everySetting())))
        .doesNotThrowAnyException();
  }

  @Test
  void everyWrongSettingIsOneProblemNamingTheTypeTheSettingAndTheRule() {
    var settings = new HashMap<String, String>();
    settings.put("command", "python render.py");
    settings.put("serviceAccount", "Not_A_Name");
    settings.put("cpu", "lots");
    settings.put("memory", "0");
    settings.put("ttlAfterFinished", "-PT1H");
    settings.put("timeToStart", "a minute");
    settings.put("timeToRun", "PT0S");
    settings.put("logsUrl", "ftp://logs/{pod}");
    settings.put("replicas", "3");

    var e =
        org.assertj.core.api.Assertions.catchThrowableOfType(
            InvalidDistributorConfigException.class,
            () -> distributor.validate("report.render", config(settings)));

    assertThat(e.problems())
        .extracting(Problem::field)
        .containsExactlyInAnyOrder(
            "namespace",
            "image",
            "command",
            "serviceAccount",
            "cpu",
            "memory",
            "ttlAfterFinished",
            "timeToStart",
            "timeToRun",
            "logsUrl",
            "replicas");
    assertThat(e.problems()).allSatisfy(p -> assertThat(p.type()).isEqualTo("report.render"));
    assertThat(e.getMessage())
        .contains("namespace is required")
        .contains("image is required")
        .contains("command must be a JSON array of strings")
        .contains("cpu must be a positive Kubernetes quantity (500m, 2, 512Mi), was 'lots'")
        .contains("replicas is not a kubernetes-job setting");
  }

  @Test
  void aNamespaceThatIsNoDnsLabelAndAnImageWithSpacesAreRefused() {
    assertThatThrownBy(
            () ->
                distributor.validate(
                    "t", config(Map.of("namespace", "Work_Space", "image", "a b:1"))))
        .hasMessageContaining("namespace must be a DNS-1123 label")
        .hasMessageContaining("image must not contain spaces");
  }

  // ---- run -----------------------------------------------------------------------------------

  @Test
  void theJobRunsTheConfiguredImageOnceWithTheAttemptsEnvironmentLabelsAndPayloadFile() {
    AttemptRequest attempt = attempt(2, 17, everySetting());

    Started started = distributor.run(attempt);

    String name = "shepherd-" + JOB + "-2";
    assertThat(started)
        .isEqualTo(
            new Started(
                new TaskToken(NAMESPACE + "/" + name),
                Duration.ofMinutes(2),
                Duration.ofMinutes(30),
                null));
    Job job = client.batch().v1().jobs().inNamespace(NAMESPACE).withName(name).get();
    assertThat(job.getMetadata().getOwnerReferences()).isNullOrEmpty();
    assertThat(job.getMetadata().getLabels())
        .containsEntry("app.kubernetes.io/managed-by", "shepherd")
        .containsEntry("shepherd.dev/job-id", JOB)
        .containsEntry("shepherd.dev/attempt", "2")
        .containsEntry("shepherd.dev/type", "report.render");
    assertThat(job.getMetadata().getAnnotations())
        .containsEntry("shepherd.dev/fencing-token", "17")
        .containsEntry("shepherd.dev/job-id", JOB);
    var spec = job.getSpec();
    assertThat(spec.getBackoffLimit()).isZero();
    assertThat(spec.getTtlSecondsAfterFinished()).isEqualTo(600);
    assertThat(spec.getActiveDeadlineSeconds()).as("timeToStart + timeToRun").isEqualTo(1920L);
    var pod = spec.getTemplate().getSpec();
    assertThat(pod.getRestartPolicy()).isEqualTo("Never");
    assertThat(pod.getServiceAccountName()).isEqualTo("renderer");
    assertThat(spec.getTemplate().getMetadata().getLabels())
        .containsEntry("shepherd.dev/job-id", JOB);
    assertThat(spec.getTemplate().getMetadata().getAnnotations())
        .containsEntry("shepherd.dev/payload", "{\"report\":\"weekly\"}");
    var container = pod.getContainers().getFirst();
    assertThat(pod.getContainers()).hasSize(1);
    assertThat(container.getImage()).isEqualTo("registry.example/renderer:1.4");
    assertThat(container.getCommand()).containsExactly("python", "render.py", "--fast");
    assertThat(container.getResources().getRequests())
        .isEqualTo(container.getResources().getLimits())
        .containsEntry("cpu", new Quantity("500m"))
        .containsEntry("memory", new Quantity("512Mi"));
    Map<String, String> env =
        container.getEnv().stream().collect(Collectors.toMap(EnvVar::getName, EnvVar::getValue));
    assertThat(env)
        .containsExactlyInAnyOrderEntriesOf(
            Map.of(
                "SHEPHERD_JOB_ID",
                JOB,
                "SHEPHERD_ATTEMPT",
                "2",
                "SHEPHERD_FENCING_TOKEN",
                "17",
                "SHEPHERD_PAYLOAD",
                "{\"report\":\"weekly\"}",
                "SHEPHERD_CALLBACK_URL",
                "http://scheduler.work.svc:8080/api/v1/attempts/" + JOB + ".2/events",
                "SHEPHERD_CALLBACK_SECRET",
                signatures.secret(new CallbackSignatures.AttemptKey(JOB, 2, 17))));
    assertThat(container.getVolumeMounts())
        .singleElement()
        .satisfies(
            m -> {
              assertThat(m.getMountPath()).isEqualTo("/var/run/shepherd");
              assertThat(m.getReadOnly()).isTrue();
            });
    var volume = pod.getVolumes().getFirst();
    assertThat(volume.getName()).isEqualTo(container.getVolumeMounts().getFirst().getName());
    assertThat(volume.getDownwardAPI().getItems())
        .singleElement()
        .satisfies(
            item -> {
              assertThat(item.getPath()).isEqualTo("payload.json");
              assertThat(item.getFieldRef().getFieldPath())
                  .isEqualTo("metadata.annotations['shepherd.dev/payload']");
            });
  }

  @Test
  void onlyTheRequiredSettingsLeaveTheImagesEntrypointNoLimitsAndAnHourToLive() {
    Job job =
        created(distributor.run(attempt(1, 5, Map.of("namespace", NAMESPACE, "image", "busybox"))));

    assertThat(job.getSpec().getTtlSecondsAfterFinished()).isEqualTo(3600);
    assertThat(job.getSpec().getActiveDeadlineSeconds()).isNull();
    var container = job.getSpec().getTemplate().getSpec().getContainers().getFirst();
    assertThat(container.getCommand()).isEmpty();
    assertThat(container.getResources())
        .satisfiesAnyOf(
            r -> assertThat(r).isNull(),
            r -> {
              assertThat(r.getLimits()).isNullOrEmpty();
            });
    assertThat(job.getSpec().getTemplate().getSpec().getServiceAccountName()).isNull();
  }

  @Test
  void aRunRepeatedForOneClaimCreatesOneJob() {
    AttemptRequest attempt = attempt(1, 5, required());

    Started first = distributor.run(attempt);
    Started again = distributor.run(attempt);

    assertThat(again).isEqualTo(first);
    assertThat(jobs()).hasSize(1);
  }

  @Test
  void aNewAttemptWhileTheEarlierAttemptsJobStillRunsAdoptsThatJob() {
    var limits = new HashMap<>(required());
    limits.put("timeToStart", "PT2M");
    limits.put("timeToRun", "PT30M");
    Started first = distributor.run(attempt(1, 5, limits));
    controller(first, running());

    Started second = distributor.run(attempt(2, 9, limits));

    assertThat(second.token()).isEqualTo(first.token());
    assertThat(second.timeToStart()).as("it started long ago").isNull();
    assertThat(second.timeToRun()).isEqualTo(Duration.ofMinutes(30));
    assertThat(jobs()).as("no second Job").hasSize(1);
    assertThat(jobs().getFirst().getMetadata().getAnnotations())
        .as("the adopted Job keeps its claim's token: its callbacks are refused")
        .containsEntry("shepherd.dev/fencing-token", "5");
    // its outcome is the new attempt's
    controller(first, complete());
    await()
        .atMost(WAIT)
        .until(
            () -> distributor.status(attempt(2, 9, required()), second.token()),
            s -> s instanceof TaskStatus.Succeeded);
  }

  @Test
  void aNewAttemptAfterTheEarlierAttemptsJobFailedGetsAJobOfItsOwn() {
    Started first = distributor.run(attempt(1, 5, required()));
    controller(first, failed("BackoffLimitExceeded"));

    Started second = distributor.run(attempt(2, 9, required()));

    assertThat(second.token().value()).isEqualTo(NAMESPACE + "/shepherd-" + JOB + "-2");
    assertThat(jobs()).hasSize(2);
  }

  @Test
  void aJobOfAnotherJobIsNeverAdopted() {
    distributor.run(attempt("08-aaaa", 1, 5, required()));

    Started mine = distributor.run(attempt(2, 9, required()));

    assertThat(mine.token().value()).endsWith("shepherd-" + JOB + "-2");
    assertThat(jobs()).hasSize(2);
  }

  // ---- status --------------------------------------------------------------------------------

  @Test
  void aJobIsPendingUntilItsPodIsReadyThenRunningThenSucceeded() {
    AttemptRequest attempt = attempt(1, 5, required());
    Started started = distributor.run(attempt);

    assertThat(distributor.status(attempt, started.token())).isEqualTo(new TaskStatus.Pending());
    controller(started, running());
    awaitStatus(attempt, started, new TaskStatus.Running());
    controller(started, complete());
    awaitStatus(attempt, started, new TaskStatus.Succeeded());
  }

  @Test
  void aPodThatExitedNonZeroFailsTheAttemptRetryablyWithItsExitCodeAndTerminationMessage() {
    AttemptRequest attempt = attempt(1, 5, required());
    Started started = distributor.run(attempt);
    pod(started, terminated(3, "Error", "no such report: weekly"));
    controller(started, failed("BackoffLimitExceeded"));

    awaitStatus(
        attempt, started, new TaskStatus.Failed("exit code 3: no such report: weekly", true));
  }

  @Test
  void anOomKilledPodIsNamedAsSuch() {
    AttemptRequest attempt = attempt(1, 5, required());
    Started started = distributor.run(attempt);
    pod(started, terminated(137, "OOMKilled", null));
    controller(started, failed("BackoffLimitExceeded"));

    awaitStatus(attempt, started, new TaskStatus.Failed("OOMKilled (exit code 137)", true));
  }

  @Test
  void anEvictedPodIsNamedWithTheKubeletsMessage() {
    AttemptRequest attempt = attempt(1, 5, required());
    Started started = distributor.run(attempt);
    pod(
        started,
        new PodStatusBuilder()
            .withPhase("Failed")
            .withReason("Evicted")
            .withMessage("The node was low on resource: memory.")
            .build());
    controller(started, failed("BackoffLimitExceeded"));

    awaitStatus(
        attempt,
        started,
        new TaskStatus.Failed("Evicted: The node was low on resource: memory.", true));
  }

  @Test
  void aJobPastItsDeadlineSaysSoRatherThanHowItsPodWasKilled() {
    AttemptRequest attempt = attempt(1, 5, required());
    Started started = distributor.run(attempt);
    pod(started, terminated(143, "Error", null));
    controller(
        started,
        new JobStatusBuilder()
            .withFailed(1)
            .withConditions(
                new JobConditionBuilder()
                    .withType("Failed")
                    .withStatus("True")
                    .withReason("DeadlineExceeded")
                    .withMessage("Job was active longer than specified deadline")
                    .build())
            .build());

    awaitStatus(
        attempt,
        started,
        new TaskStatus.Failed(
            "DeadlineExceeded: Job was active longer than specified deadline", true));
  }

  @Test
  void aJobDeletedByHandIsMissingOnceTheVisibilityGraceHasPassed() {
    AttemptRequest attempt = attempt(1, 5, required());
    Instant runAt = Instant.parse("2026-12-02T01:00:00Z");
    var clock = new SettableClock(runAt);
    var calls =
        new DistributorCalls(
            2,
            Duration.ZERO,
            Duration.ZERO,
            DistributorCalls.DEFAULT_VISIBILITY_GRACE,
            d -> {},
            clock);
    Started started = distributor.run(attempt);
    awaitStatus(attempt, started, new TaskStatus.Pending()); // cached by the informer
    client.batch().v1().jobs().inNamespace(NAMESPACE).withName(JobNames.jobName(JOB, 1)).delete();

    await()
        .atMost(WAIT)
        .untilAsserted(
            () ->
                assertThatThrownBy(() -> distributor.status(attempt, started.token()))
                    .isInstanceOf(PermanentDistributorException.class)
                    .hasMessageContaining("does not exist"));
    assertThat(calls.status(distributor, attempt, started.token(), runAt))
        .as("within the grace: a Job not visible yet")
        .isEqualTo(new TaskStatus.Pending());
    clock.advance(DistributorCalls.DEFAULT_VISIBILITY_GRACE);
    assertThat(calls.status(distributor, attempt, started.token(), runAt))
        .isInstanceOfSatisfying(
            TaskStatus.Missing.class,
            m ->
                assertThat(m.reason())
                    .contains("Job " + started.token() + " does not exist")
                    .contains("deleted"));
  }

  // ---- cancel and info ------------------------------------------------------------------------

  @Test
  void cancelDeletesTheJobWithItsPodsInTheForegroundAndAJobAlreadyGoneIsFine() throws Exception {
    AttemptRequest attempt = attempt(1, 5, required());
    Started started = distributor.run(attempt);
    drainRequests();

    distributor.cancel(attempt, started.token());

    assertThat(jobs()).isEmpty();
    RecordedRequest delete =
        drainRequests().stream()
            .filter(r -> r.getMethod().equals("DELETE"))
            .findFirst()
            .orElseThrow();
    assertThat(delete.getPath())
        .startsWith("/apis/batch/v1/namespaces/work/jobs/shepherd-" + JOB + "-1");
    assertThat(Json.mapper().readTree(delete.getUtf8Body()).path("propagationPolicy").asString())
        .isEqualTo("Foreground");
    assertThatCode(() -> distributor.cancel(attempt, started.token())).doesNotThrowAnyException();
  }

  @Test
  void theInfoUrlIsThePodsLogsOnTheApiServerOrTheConfiguredTemplate() {
    AttemptRequest attempt = attempt(1, 5, required());
    Started started = distributor.run(attempt);
    assertThat(distributor.infoUrl(attempt, started.token())).as("no pod yet").isEmpty();
    String pod = pod(started, new PodStatusBuilder().withPhase("Running").build());

    assertThat(distributor.infoUrl(attempt, started.token()))
        .hasValue(
            URI.create(client.getMasterUrl() + "api/v1/namespaces/work/pods/" + pod + "/log"));
    var templated = new HashMap<>(required());
    templated.put("logsUrl", "https://logs.example/{namespace}/{pod}");
    assertThat(distributor.infoUrl(attempt(1, 5, templated), started.token()))
        .hasValue(URI.create("https://logs.example/work/" + pod));
  }

  // ---- the test's side: attempts, and the Job controller's part -------------------------------

  private static Map<String, String> required() {
    return Map.of("namespace", NAMESPACE, "image", "registry.example/renderer:1.4");
  }

  private static Map<String, String> everySetting() {
    var settings = new HashMap<>(required());
    settings.put("command", "[\"python\", \"render.py\", \"--fast\"]");
    settings.put("serviceAccount", "renderer");
    settings.put("cpu", "500m");
    settings.put("memory", "512Mi");
    settings.put("ttlAfterFinished", "PT10M");
    settings.put("timeToStart", "PT2M");
    settings.put("timeToRun", "PT30M");
    settings.put("logsUrl", "https://logs.example/{namespace}/{pod}");
    return settings;
  }

  private static DistributorConfig config(Map<String, String> settings) {
    return new DistributorConfig(KubernetesJobDistributor.NAME, settings);
  }

  private static AttemptRequest attempt(int attempt, long token, Map<String, String> settings) {
    return attempt(JOB, attempt, token, settings);
  }

  private static AttemptRequest attempt(
      String jobId, int attempt, long token, Map<String, String> settings) {
    return new AttemptRequest(
        jobId,
        "report.render",
        attempt,
        token,
        Json.mapper().readTree("{\"report\":\"weekly\"}"),
        config(settings),
        null);
  }

  private List<Job> jobs() {
    return client.batch().v1().jobs().inNamespace(NAMESPACE).list().getItems();
  }

  private Job created(Started started) {
    return client
        .batch()
        .v1()
        .jobs()
        .inNamespace(NAMESPACE)
        .withName(started.token().value().substring(NAMESPACE.length() + 1))
        .get();
  }

  /** The Job controller's part: sets the Job's status. */
  private void controller(Started started, JobStatus status) {
    Job job = created(started);
    job.setStatus(status);
    client.batch().v1().jobs().inNamespace(NAMESPACE).resource(job).updateStatus();
  }

  /** The Job controller's and kubelet's part: the Job's pod, with its status; its name. */
  private String pod(Started started, PodStatus status) {
    Job job = created(started);
    String name = job.getMetadata().getName() + "-x7k2p";
    client
        .pods()
        .inNamespace(NAMESPACE)
        .resource(
            new PodBuilder()
                .withNewMetadata()
                .withName(name)
                .withLabels(job.getSpec().getTemplate().getMetadata().getLabels())
                .endMetadata()
                .withSpec(job.getSpec().getTemplate().getSpec())
                .withStatus(status)
                .build())
        .create();
    return name;
  }

  private static JobStatus running() {
    return new JobStatusBuilder().withActive(1).withReady(1).build();
  }

  private static JobStatus complete() {
    return new JobStatusBuilder()
        .withSucceeded(1)
        .withConditions(new JobConditionBuilder().withType("Complete").withStatus("True").build())
        .build();
  }

  private static JobStatus failed(String reason) {
    return new JobStatusBuilder()
        .withFailed(1)
        .withConditions(
            new JobConditionBuilder()
                .withType("Failed")
                .withStatus("True")
                .withReason(reason)
                .withMessage("Job has reached the specified backoff limit")
                .build())
        .build();
  }

  private static PodStatus terminated(int exitCode, String reason, String message) {
    return new PodStatusBuilder()
        .withPhase("Failed")
        .withContainerStatuses(
            new ContainerStatusBuilder()
                .withName("task")
                .withNewState()
                .withNewTerminated()
                .withExitCode(exitCode)
                .withReason(reason)
                .withMessage(message)
                .endTerminated()
                .endState()
                .build())
        .build();
  }

  private void awaitStatus(AttemptRequest attempt, Started started, TaskStatus expected) {
    await()
        .atMost(WAIT)
        .untilAsserted(
            () -> assertThat(distributor.status(attempt, started.token())).isEqualTo(expected));
  }

  private List<RecordedRequest> drainRequests() throws InterruptedException {
    var requests = new java.util.ArrayList<RecordedRequest>();
    RecordedRequest r;
    while ((r = server.takeRequest(100, TimeUnit.MILLISECONDS)) != null) {
      requests.add(r);
    }
    return requests;
  }
}
