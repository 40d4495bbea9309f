package dev.shepherd.distribution.kubernetes;

import static dev.shepherd.distribution.kubernetes.JobNames.ATTEMPT;
import static dev.shepherd.distribution.kubernetes.JobNames.FENCING_TOKEN;
import static dev.shepherd.distribution.kubernetes.JobNames.JOB_ID;
import static dev.shepherd.distribution.kubernetes.JobNames.MANAGED_BY;
import static dev.shepherd.distribution.kubernetes.JobNames.PAYLOAD;
import static dev.shepherd.distribution.kubernetes.JobNames.SHEPHERD;
import static dev.shepherd.distribution.kubernetes.JobNames.TASK;
import static dev.shepherd.distribution.kubernetes.JobNames.TYPE;

import dev.shepherd.distribution.AttemptRequest;
import dev.shepherd.distribution.Distributor;
import dev.shepherd.distribution.DistributorConfig;
import dev.shepherd.distribution.DistributorException;
import dev.shepherd.distribution.InvalidDistributorConfigException;
import dev.shepherd.distribution.Notification;
import dev.shepherd.distribution.PermanentDistributorException;
import dev.shepherd.distribution.Started;
import dev.shepherd.distribution.TaskStatus;
import dev.shepherd.distribution.TaskToken;
import dev.shepherd.distribution.TransientDistributorException;
import dev.shepherd.distribution.http.CallbackSignatures;
import dev.shepherd.distribution.http.CallbackSignatures.AttemptKey;
import dev.shepherd.distribution.http.HttpAttemptRequest;
import dev.shepherd.distribution.kubernetes.JobNames.JobRef;
import dev.shepherd.model.Json;
import dev.shepherd.model.StatusEvent;
import io.fabric8.kubernetes.api.model.ContainerBuilder;
import io.fabric8.kubernetes.api.model.DeletionPropagation;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.VolumeBuilder;
import io.fabric8.kubernetes.api.model.VolumeMountBuilder;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.api.model.batch.v1.JobBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs each attempt as one Kubernetes {@code batch/v1} Job (ADR 44, 46): the worker that claimed
 * the attempt creates the Job, follows it with {@link #status} until it succeeds or fails, and
 * deletes it when the attempt must stop.
 *
 * <p><b>Settings</b> (flat strings): {@code namespace} (required), {@code image} (required), {@code
 * command} (a JSON array of strings, {@code ["python", "render.py"]}; default the image's
 * entrypoint), {@code serviceAccount}, {@code cpu} and {@code memory} (Kubernetes quantities, each
 * both the request and the limit), {@code ttlAfterFinished} (ISO-8601, default {@code PT1H}: how
 * long a finished Job and its logs stay), {@code timeToStart} and {@code timeToRun} (ISO-8601, the
 * limits each attempt asks for; with {@code timeToRun}, their sum is also the Job's {@code
 * activeDeadlineSeconds}, which bounds a Job whose worker died) and {@code logsUrl} (a template
 * with {@code {namespace}} and {@code {pod}}, where a person reads a pod's logs; default the API
 * server's log path).
 *
 * <p><b>The Job</b> is named after the attempt ({@link JobNames#jobName}), runs one pod once
 * ({@code backoffLimit: 0}, {@code restartPolicy: Never}: Shepherd retries, as a new attempt), is
 * labelled with the job, attempt and type and annotated with the claim's fencing token, has no
 * owner, and is deleted by Kubernetes {@code ttlAfterFinished} after it ends. Its container gets
 * {@code SHEPHERD_JOB_ID}, {@code SHEPHERD_ATTEMPT}, {@code SHEPHERD_FENCING_TOKEN}, {@code
 * SHEPHERD_PAYLOAD} (the payload's JSON), {@code SHEPHERD_CALLBACK_URL} and {@code
 * SHEPHERD_CALLBACK_SECRET}, the same as an {@code http} service gets, so it may report phases and
 * progress with the same signed callbacks; the payload is also the file {@value #PAYLOAD_FILE}. The
 * secret is in the Job's spec: whoever may read the namespace's Jobs may sign for that one attempt.
 *
 * <p><b>Outcomes</b> come from the Job, not from callbacks: {@link #status} answers {@link
 * TaskStatus.Succeeded} once the Job completed, {@link TaskStatus.Failed} (retryable) with what
 * ended its pod ({@code exit code 3}, {@code OOMKilled (exit code 137)}, {@code Evicted: ...},
 * {@code DeadlineExceeded: ...}) once it failed, and throws {@link PermanentDistributorException}
 * when the Job does not exist, which {@code DistributorCalls.status} records as missing once the
 * visibility grace has passed. Status reads a shared informer's cache of the Jobs Shepherd manages
 * in the namespace (one watch per namespace, not one API call per poll), and asks the API server
 * only when the cache does not have the Job.
 *
 * <p><b>Idempotent, and adopting.</b> A run whose Job already exists with the same fencing token
 * adopts it. A run that finds a Job of an earlier attempt of the same job still active (its worker
 * died while the Job ran, and the job came back as a new attempt) adopts that Job rather than start
 * a second one: the token names it, its outcome becomes this attempt's, and cancelling this attempt
 * deletes it; it asks for no time to start, having started. Its container still holds the earlier
 * claim's fencing token and secret, so its callbacks are refused (409); only its outcome, read from
 * the Job, counts.
 */
public final class KubernetesJobDistributor implements Distributor, AutoCloseable {

  public static final String NAME = "kubernetes-job";

  /** Where the container finds the payload, as a file. */
  public static final String PAYLOAD_FILE = "/var/run/shepherd/payload.json";

  private static final Logger log = LoggerFactory.getLogger(KubernetesJobDistributor.class);
  private static final String CONTAINER = "task";
  private static final Duration CLOSE_WAIT = Duration.ofSeconds(5);

  private final KubernetesClient client;
  private final CallbackSignatures signatures;
  private final URI callbackBase;
  private final Map<String, SharedIndexInformer<Job>> informers = new ConcurrentHashMap<>();
  private volatile boolean closed;

  /**
   * @param client a client whose account may create, get, list, watch and delete Jobs and get, list
   *     and watch pods in each type's namespace
   * @param signatures derives each attempt's callback secret, as for {@code http}
   * @param callbackBase Shepherd's public base URL, which containers call back
   */
  public KubernetesJobDistributor(
      KubernetesClient client, CallbackSignatures signatures, URI callbackBase) {
    this.client = client;
    this.signatures = signatures;
    this.callbackBase = callbackBase;
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public void validate(String type, DistributorConfig config) {
    var problems = JobSettings.problems(type, config);
    if (!problems.isEmpty()) {
      throw new InvalidDistributorConfigException(problems);
    }
  }

  @Override
  public Started run(AttemptRequest attempt) {
    attempt.requireClaimed(NAME);
    JobSettings settings = JobSettings.of(attempt.config());
    String namespace = settings.namespace();
    String name = JobNames.jobName(attempt.jobId(), attempt.attempt());
    String what = "run of " + namespace + "/" + name;
    Job existing = call(what, () -> jobs(namespace).withName(name).get());
    if (existing != null && isOurs(existing, attempt)) {
      return started(settings, namespace, name);
    }
    Optional<Job> running = activeJobOfEarlierAttempt(namespace, attempt);
    if (running.isPresent()) {
      String adopted = running.get().getMetadata().getName();
      log.info(
          "{}.{} adopts Job {}/{}, still running for an earlier attempt",
          attempt.jobId(),
          attempt.attempt(),
          namespace,
          adopted);
      // it started long ago: no time to start, only the time to run, from now
      return new Started(JobNames.token(namespace, adopted), null, settings.timeToRun(), null);
    }
    if (existing != null) {
      throw new PermanentDistributorException(
          what + ": the Job exists for another claim (fencing token " + tokenOf(existing) + ")");
    }
    try {
      jobs(namespace).resource(job(attempt, settings, name)).create();
    } catch (KubernetesClientException e) {
      if (e.getCode() != 409) {
        throw failure(what, e);
      }
      // "already exists": a run of the same claim raced this one, which is success
      Job raced = call(what, () -> jobs(namespace).withName(name).get());
      if (raced == null) {
        throw new TransientDistributorException(
            what + ": the Job was deleted as it was created", e);
      }
      if (!isOurs(raced, attempt)) {
        throw new PermanentDistributorException(
            what + ": the Job exists for another claim (fencing token " + tokenOf(raced) + ")", e);
      }
    }
    log.debug("{}.{} created Job {}/{}", attempt.jobId(), attempt.attempt(), namespace, name);
    return started(settings, namespace, name);
  }

  /** Deletes the Job and, through foreground propagation, its pod; a Job already gone is fine. */
  @Override
  public void cancel(AttemptRequest attempt, TaskToken token) {
    JobRef ref = JobRef.of(token);
    call(
        "cancel of " + ref,
        () ->
            jobs(ref.namespace())
                .withName(ref.name())
                .withPropagationPolicy(DeletionPropagation.FOREGROUND)
                .delete());
  }

  @Override
  public TaskStatus status(AttemptRequest attempt, TaskToken token) {
    JobRef ref = JobRef.of(token);
    String what = "status of " + ref;
    Job job = cached(ref);
    if (job == null || notStarted(job)) {
      // not cached, or cached before the Job controller wrote anything: a watch that began just
      // as the Job was deleted may never tell the cache, so a Job not started yet is read afresh
      // (only its first seconds: the controller counts the pod as active once it exists)
      job = call(what, () -> jobs(ref.namespace()).withName(ref.name()).get());
    }
    if (job == null) {
      throw new PermanentDistributorException(
          "Job " + ref + " does not exist: deleted by someone, or never created");
    }
    return JobStatuses.of(job, () -> call(what, () -> podsOf(ref)));
  }

  /**
   * The logs of the Job's newest pod: the {@code logsUrl} template, or the API server's log path.
   * Finding the pod takes one API call; empty when the Job has no pod (yet, or any more).
   */
  @Override
  public Optional<URI> infoUrl(AttemptRequest attempt, TaskToken token) {
    JobRef ref = JobRef.of(token);
    var newest =
        call("info of " + ref, () -> podsOf(ref)).stream()
            .max(Comparator.comparing(p -> String.valueOf(p.getMetadata().getCreationTimestamp())));
    if (newest.isEmpty()) {
      return Optional.empty();
    }
    String pod = newest.get().getMetadata().getName();
    String template = attempt.config().setting("logsUrl");
    if (template == null) {
      String base = client.getMasterUrl().toString();
      template =
          (base.endsWith("/") ? base : base + "/") + "api/v1/namespaces/{namespace}/pods/{pod}/log";
    }
    return Optional.of(
        URI.create(template.replace("{namespace}", ref.namespace()).replace("{pod}", pod)));
  }

  /**
   * A Job reports nothing by notification: its outcome comes from {@link #status}. A container that
   * reports phases or progress calls back as an http service does, and the scheduler checks those
   * callbacks with {@code HttpCallbacks} (ADR 45).
   */
  @Override
  public List<StatusEvent> handleNotification(
      AttemptRequest attempt, TaskToken token, Notification notification) {
    return List.of();
  }

  /**
   * Stops the informers and waits, at most {@link #CLOSE_WAIT}, until their watches have ended, so
   * that a client closed right after finds no watch of theirs still open.
   */
  @Override
  public void close() {
    closed = true;
    var stopping = new ArrayList<CompletableFuture<Void>>();
    informers
        .values()
        .forEach(
            informer -> {
              informer.close();
              stopping.add(informer.stopped().toCompletableFuture());
            });
    informers.clear();
    try {
      CompletableFuture.allOf(stopping.toArray(CompletableFuture[]::new))
          .get(CLOSE_WAIT.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (ExecutionException | TimeoutException e) {
      log.warn("the Job informers did not stop within {}: {}", CLOSE_WAIT, e.toString());
    }
  }

  /** The Job informers started so far, by namespace (tests wait for their caches to catch up). */
  Map<String, SharedIndexInformer<Job>> informers() {
    return Map.copyOf(informers);
  }

  private Job job(AttemptRequest attempt, JobSettings settings, String name) {
    String payload = Json.mapper().writeValueAsString(attempt.payload());
    String token = Long.toString(attempt.fencingToken());
    var labels = new LinkedHashMap<String, String>();
    labels.put(MANAGED_BY, SHEPHERD);
    labels.put(JOB_ID, JobNames.labelValue(attempt.jobId()));
    labels.put(ATTEMPT, Integer.toString(attempt.attempt()));
    labels.put(TYPE, JobNames.labelValue(attempt.type()));
    labels.put(TASK, name);
    var annotations = new LinkedHashMap<String, String>();
    annotations.put(JOB_ID, attempt.jobId());
    annotations.put(TYPE, attempt.type());
    annotations.put(FENCING_TOKEN, token);
    var container =
        new ContainerBuilder()
            .withName(CONTAINER)
            .withImage(settings.image())
            .withCommand(settings.command())
            .withEnv(
                env("SHEPHERD_JOB_ID", attempt.jobId()),
                env("SHEPHERD_ATTEMPT", Integer.toString(attempt.attempt())),
                env("SHEPHERD_FENCING_TOKEN", token),
                env("SHEPHERD_PAYLOAD", payload),
                env(
                    "SHEPHERD_CALLBACK_URL",
                    HttpAttemptRequest.callbackUrl(callbackBase, attempt).toString()),
                env(
                    "SHEPHERD_CALLBACK_SECRET",
                    signatures.secret(
                        new AttemptKey(
                            attempt.jobId(), attempt.attempt(), attempt.fencingToken()))))
            .withVolumeMounts(
                new VolumeMountBuilder()
                    .withName("shepherd")
                    .withMountPath(PAYLOAD_FILE.substring(0, PAYLOAD_FILE.lastIndexOf('/')))
                    .withReadOnly(true)
                    .build());
    var resources = resources(settings.cpu(), settings.memory());
    if (!resources.isEmpty()) {
      container.withNewResources().withRequests(resources).withLimits(resources).endResources();
    }
    var podAnnotations = new LinkedHashMap<>(annotations);
    podAnnotations.put(PAYLOAD, payload);
    return new JobBuilder()
        .withNewMetadata()
        .withName(name)
        .withLabels(labels)
        .withAnnotations(annotations)
        .endMetadata()
        .withNewSpec()
        .withBackoffLimit(0)
        .withTtlSecondsAfterFinished((int) settings.ttlAfterFinished().toSeconds())
        .withActiveDeadlineSeconds(settings.activeDeadlineSeconds())
        .withNewTemplate()
        .withNewMetadata()
        .withLabels(labels)
        .withAnnotations(podAnnotations)
        .endMetadata()
        .withNewSpec()
        .withRestartPolicy("Never")
        .withServiceAccountName(settings.serviceAccount())
        .withContainers(container.build())
        .withVolumes(
            new VolumeBuilder()
                .withName("shepherd")
                .withNewDownwardAPI()
                .addNewItem()
                .withPath(PAYLOAD_FILE.substring(PAYLOAD_FILE.lastIndexOf('/') + 1))
                .withNewFieldRef()
                .withFieldPath("metadata.annotations['" + PAYLOAD + "']")
                .endFieldRef()
                .endItem()
                .endDownwardAPI()
                .build())
        .endSpec()
        .endTemplate()
        .endSpec()
        .build();
  }

  private static Map<String, Quantity> resources(Quantity cpu, Quantity memory) {
    var resources = new LinkedHashMap<String, Quantity>();
    if (cpu != null) {
      resources.put("cpu", cpu);
    }
    if (memory != null) {
      resources.put("memory", memory);
    }
    return resources;
  }

  private static EnvVar env(String name, String value) {
    return new EnvVar(name, value, null);
  }

  /** The Job of this attempt's own claim: created by a run whose answer was lost. */
  private static boolean isOurs(Job job, AttemptRequest attempt) {
    return Long.toString(attempt.fencingToken()).equals(tokenOf(job));
  }

  private static String tokenOf(Job job) {
    var annotations = job.getMetadata().getAnnotations();
    return annotations == null ? null : annotations.get(FENCING_TOKEN);
  }

  /** A Job of an earlier attempt of the same job that is still running and not being deleted. */
  private Optional<Job> activeJobOfEarlierAttempt(String namespace, AttemptRequest attempt) {
    List<Job> ofTheJob =
        call(
            "run of " + attempt.jobId() + "." + attempt.attempt(),
            () ->
                jobs(namespace)
                    .withLabel(MANAGED_BY, SHEPHERD)
                    .withLabel(JOB_ID, JobNames.labelValue(attempt.jobId()))
                    .list()
                    .getItems());
    return ofTheJob.stream()
        .filter(j -> j.getMetadata().getAnnotations() != null)
        .filter(j -> attempt.jobId().equals(j.getMetadata().getAnnotations().get(JOB_ID)))
        .filter(j -> j.getMetadata().getDeletionTimestamp() == null)
        .filter(j -> !JobStatuses.isFinished(j))
        .filter(j -> attemptOf(j) < attempt.attempt())
        .max(Comparator.comparingInt(KubernetesJobDistributor::attemptOf));
  }

  private static int attemptOf(Job job) {
    try {
      return Integer.parseInt(job.getMetadata().getLabels().getOrDefault(ATTEMPT, "0"));
    } catch (NumberFormatException e) {
      return 0;
    }
  }

  private static Started started(JobSettings settings, String namespace, String name) {
    return new Started(
        JobNames.token(namespace, name), settings.timeToStart(), settings.timeToRun(), null);
  }

  private List<io.fabric8.kubernetes.api.model.Pod> podsOf(JobRef ref) {
    return client.pods().inNamespace(ref.namespace()).withLabel(TASK, ref.name()).list().getItems();
  }

  /** Whether the Job controller has written nothing yet: no pod counted, no condition. */
  private static boolean notStarted(Job job) {
    var status = job.getStatus();
    return status == null
        || (isZero(status.getActive())
            && isZero(status.getSucceeded())
            && isZero(status.getFailed())
            && (status.getConditions() == null || status.getConditions().isEmpty()));
  }

  private static boolean isZero(Integer count) {
    return count == null || count == 0;
  }

  /** The Job from the namespace's informer, started on first use; null when it does not have it. */
  private Job cached(JobRef ref) {
    if (closed) {
      return null;
    }
    SharedIndexInformer<Job> informer;
    try {
      informer =
          informers.computeIfAbsent(
              ref.namespace(), ns -> jobs(ns).withLabel(MANAGED_BY, SHEPHERD).inform());
    } catch (KubernetesClientException e) {
      // no watch (yet): the next poll tries again, this one asks the API server
      log.warn("cannot watch the Jobs in namespace {}: {}", ref.namespace(), e.getMessage());
      return null;
    }
    return informer.getStore().getByKey(ref.namespace() + "/" + ref.name());
  }

  private io.fabric8.kubernetes.client.dsl.NonNamespaceOperation<
          Job,
          io.fabric8.kubernetes.api.model.batch.v1.JobList,
          io.fabric8.kubernetes.client.dsl.ScalableResource<Job>>
      jobs(String namespace) {
    return client.batch().v1().jobs().inNamespace(namespace);
  }

  /**
   * One API call, its failure sorted for {@code DistributorCalls}: no answer, a server error, a
   * throttle or a conflict may pass; anything else the API server refused (forbidden, invalid, no
   * such namespace) will not.
   */
  private static <T> T call(String what, Supplier<T> call) {
    try {
      return call.get();
    } catch (KubernetesClientException e) {
      throw failure(what, e);
    }
  }

  private static DistributorException failure(String what, KubernetesClientException e) {
    int code = e.getCode();
    String reason = what + ": " + (code == 0 ? "" : code + " ") + e.getMessage();
    if (code == 0 || code >= 500 || code == 408 || code == 409 || code == 429) {
      return new TransientDistributorException(reason, e);
    }
    return new PermanentDistributorException(reason, e);
  }
}
