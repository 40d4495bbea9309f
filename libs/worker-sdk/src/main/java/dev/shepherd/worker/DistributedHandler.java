package dev.shepherd.worker;

import dev.shepherd.distribution.AttemptRequest;
import dev.shepherd.distribution.Distributor;
import dev.shepherd.distribution.DistributorCalls;
import dev.shepherd.distribution.DistributorConfig;
import dev.shepherd.distribution.DistributorException;
import dev.shepherd.distribution.PermanentDistributorException;
import dev.shepherd.distribution.Started;
import dev.shepherd.distribution.TaskStatus;
import dev.shepherd.distribution.TransientDistributorException;
import dev.shepherd.model.Json;
import dev.shepherd.model.MetricNames;
import dev.shepherd.model.StatusEvent;
import io.micrometer.core.instrument.Metrics;
import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.JsonNode;

/**
 * Runs a job type's attempts on a backend through its {@link Distributor} (ADR 44, 45), as an
 * ordinary handler: the worker claims the attempt, keeps its lease and timeouts and publishes its
 * outcome exactly as for any job, and this handler holds the slot while the backend works.
 *
 * <p>Per attempt it opens the attempt's mailbox in {@link RemoteReports}, asks the distributor to
 * run the task (through {@link DistributorCalls}, which retries what failed transiently), and then
 * turns what the backend reports, forwarded by the scheduler as NOTIFY orders, into the attempt's
 * own reports: a remote phase becomes a {@link JobContext#phase phase} of the attempt, progress and
 * heartbeats are reported as such (and so keep the stall timeout at bay), SUCCEEDED returns and
 * FAILED throws {@link PermanentJobException} or {@link RetryableJobException} with the backend's
 * error.
 *
 * <p>It also asks the backend for the task's {@link Distributor#status status}, at once and then
 * every status interval (default {@value #DEFAULT_STATUS_INTERVAL_SECONDS} s), for a backend that
 * reports its outcome there rather than by callbacks (a Kubernetes Job): {@link
 * TaskStatus.Succeeded} ends the attempt as SUCCEEDED, {@link TaskStatus.Failed} as FAILED with its
 * reason, and {@link TaskStatus.Missing} (a task the backend no longer knows, once the visibility
 * grace of {@link DistributorCalls#status} has passed) as FAILED {@code missing: <reason>},
 * retryable, rather than waiting for a timeout. A {@link TaskStatus.Running} that follows a {@link
 * TaskStatus.Pending} is the task's start, as its first report would be; a backend that cannot tell
 * (the {@code http} distributor answers Running from the start) changes nothing. A status that
 * still fails transiently after the retries is asked again next interval.
 *
 * <ul>
 *   <li>A run the backend refuses ({@link PermanentDistributorException}) ends the job DEAD with
 *       the backend's reason; one that still fails transiently after the retries fails the attempt,
 *       retryable.
 *   <li>The limits the run returns ({@link Started}) are kept here: no first report within {@code
 *       timeToStart} of the run, or no outcome within {@code timeToRun} of the task's start (its
 *       first report; the run itself when there is no {@code timeToStart}), cancels the task and
 *       fails the attempt {@code timeout:timeToStart} or {@code timeout:timeToRun}, retryable.
 *   <li>An attempt that must stop (the job cancelled, the attempt abandoned or timed out by the
 *       worker, its lease lost, the worker stopping) cancels its task, best effort, and ends.
 * </ul>
 *
 * <p>The distributor configuration it is built with is the snapshot every call for its attempts
 * uses: an attempt never outlives the worker that runs it.
 *
 * <pre>{@code
 * var reports = new RemoteReports();
 * var render = new DistributedHandler("report.render", httpDistributor,
 *     new DistributorConfig("http", Map.of("endpoint", "http://renderer:8080/tasks")),
 *     calls, reports, Clock.systemUTC());
 * var runtime = new WorkerRuntime(settings, leases, deadJobs, topology, publisher, connections,
 *     List.of(render), reports, registry, Clock.systemUTC(), meters);
 * }</pre>
 */
public final class DistributedHandler implements JobHandler<JsonNode> {

  private static final Logger log = LoggerFactory.getLogger(DistributedHandler.class);

  /** How long one wait for a report lasts: how soon a cancel or an interrupt is seen. */
  static final Duration POLL = Duration.ofMillis(100);

  static final long DEFAULT_STATUS_INTERVAL_SECONDS = 1;

  /** How often a task's status is asked, unless the handler is built with another interval. */
  public static final Duration DEFAULT_STATUS_INTERVAL =
      Duration.ofSeconds(DEFAULT_STATUS_INTERVAL_SECONDS);

  /** Any JSON object: the backend, not the worker, knows what its payload must hold. */
  private static final JsonNode ANY_OBJECT = Json.mapper().createObjectNode().put("type", "object");

  private final String type;
  private final Distributor distributor;
  private final DistributorConfig config;
  private final DistributorCalls calls;
  private final RemoteReports reports;
  private final Clock clock;
  private final Integer maxAttempts;
  private final Duration statusInterval;
  private final TaskRecords records;

  /**
   * Where each attempt's task is recorded for the job view (its distributor, token, info URL and
   * the settings it started with, its configuration snapshot): the store's {@code
   * Leases.recordTask}, fenced by the attempt's token.
   */
  @FunctionalInterface
  public interface TaskRecords {
    /** Records nothing: for a handler used without a store. */
    TaskRecords NONE = (jobId, fencingToken, distributor, task, infoUrl, settings) -> {};

    /**
     * @param infoUrl null for none
     * @param settings the distributor settings the attempt started with
     */
    void record(
        String jobId,
        long fencingToken,
        String distributor,
        String task,
        String infoUrl,
        java.util.Map<String, String> settings);
  }

  /**
   * @param config the type's distributor configuration, checked ({@link Distributor#validate})
   * @param reports where the worker's control orders leave the backend's reports: the same the
   *     {@link WorkerRuntime} is built with
   * @param maxAttempts the attempts a job of the type gets when its submission names none; null for
   *     the scheduler's default
   * @param statusInterval how often the task's status is asked ({@link #DEFAULT_STATUS_INTERVAL})
   * @param records where each attempt's task is recorded for the job view
   */
  public DistributedHandler(
      String type,
      Distributor distributor,
      DistributorConfig config,
      DistributorCalls calls,
      RemoteReports reports,
      Clock clock,
      Integer maxAttempts,
      Duration statusInterval,
      TaskRecords records) {
    if (type == null || type.isBlank()) {
      throw new IllegalArgumentException("a distributed handler needs a job type");
    }
    if (!distributor.name().equals(config.distributor())) {
      throw new IllegalArgumentException(
          "job type "
              + type
              + " is configured for distributor '"
              + config.distributor()
              + "', not '"
              + distributor.name()
              + "'");
    }
    this.type = type;
    this.distributor = distributor;
    this.config = config;
    this.calls = calls;
    this.reports = reports;
    this.clock = clock;
    this.maxAttempts = maxAttempts;
    if (statusInterval == null || !statusInterval.isPositive()) {
      throw new IllegalArgumentException(
          "the status interval must be positive, was " + statusInterval);
    }
    this.statusInterval = statusInterval;
    this.records = records;
  }

  /** A handler that records no task (no store at hand). */
  public DistributedHandler(
      String type,
      Distributor distributor,
      DistributorConfig config,
      DistributorCalls calls,
      RemoteReports reports,
      Clock clock,
      Integer maxAttempts,
      Duration statusInterval) {
    this(
        type,
        distributor,
        config,
        calls,
        reports,
        clock,
        maxAttempts,
        statusInterval,
        TaskRecords.NONE);
  }

  public DistributedHandler(
      String type,
      Distributor distributor,
      DistributorConfig config,
      DistributorCalls calls,
      RemoteReports reports,
      Clock clock,
      Integer maxAttempts) {
    this(type, distributor, config, calls, reports, clock, maxAttempts, DEFAULT_STATUS_INTERVAL);
  }

  public DistributedHandler(
      String type,
      Distributor distributor,
      DistributorConfig config,
      DistributorCalls calls,
      RemoteReports reports,
      Clock clock) {
    this(type, distributor, config, calls, reports, clock, null, DEFAULT_STATUS_INTERVAL);
  }

  @Override
  public String type() {
    return type;
  }

  @Override
  public Class<JsonNode> payloadType() {
    return JsonNode.class;
  }

  @Override
  public JsonNode payloadSchema() {
    return ANY_OBJECT.deepCopy();
  }

  @Override
  public Integer maxAttempts() {
    return maxAttempts;
  }

  /** The configuration every attempt of this type runs with. */
  public DistributorConfig config() {
    return config;
  }

  @Override
  public void handle(JobContext<JsonNode> job) throws Exception {
    var request =
        new AttemptRequest(
            job.jobId(),
            type,
            job.attempt(),
            job.fencingToken(),
            job.payload(),
            config,
            job.deadline().orElse(null));
    String name = job.jobId() + "." + job.attempt();
    try (RemoteReports.Mailbox mailbox = reports.open(job.jobId(), job.fencingToken())) {
      Started started;
      try {
        started = run(request, name);
      } catch (PermanentJobException e) {
        count("refused");
        throw e;
      } catch (RetryableJobException e) {
        count("unreachable");
        throw e;
      }
      log.debug("{} runs on {} as task {}", name, distributor.name(), started.token());
      var task = new Task(request, name, started, mailbox, clock.instant());
      task.infoRecorded = record(task);
      try {
        follow(job, task, null);
        count("succeeded");
      } catch (Exception e) {
        count(outcomeOf(job, e));
        throw e;
      }
    }
  }

  /**
   * How an attempt that started its task ended, for {@value
   * MetricNames#WORKER_DISTRIBUTED_ATTEMPTS}: stopped (cancelled, abandoned, interrupted), timeout
   * ({@code timeToStart}, {@code timeToRun}), missing, or failed (the backend's failure).
   */
  private static String outcomeOf(JobContext<JsonNode> job, Exception e) {
    String message = e.getMessage() == null ? "" : e.getMessage();
    if (job.isCancelled() || e instanceof InterruptedException || message.contains(" stopped: ")) {
      return "stopped";
    }
    if (message.startsWith("timeout:")) {
      return "timeout";
    }
    return message.startsWith("missing: ") ? "missing" : "failed";
  }

  private void count(String outcome) {
    Metrics.globalRegistry
        .counter(
            MetricNames.WORKER_DISTRIBUTED_ATTEMPTS,
            MetricNames.TAG_TYPE,
            type,
            MetricNames.TAG_DISTRIBUTOR,
            distributor.name(),
            MetricNames.TAG_OUTCOME,
            outcome)
        .increment();
  }

  /**
   * Records the task for the job view; best effort: the view misses the task's line when it fails,
   * and the attempt goes on. True when its info URL was known.
   */
  private boolean record(Task task) {
    try {
      String infoUrl =
          distributor.infoUrl(task.request, task.started.token()).map(URI::toString).orElse(null);
      records.record(
          task.request.jobId(),
          task.request.fencingToken(),
          distributor.name(),
          task.started.token().value(),
          infoUrl,
          task.request.config().settings());
      return infoUrl != null;
    } catch (RuntimeException e) {
      log.warn(
          "{}: its task {} is not recorded for the job view: {}",
          task.name,
          task.started.token(),
          e.toString());
      return false;
    }
  }

  /**
   * The task started (its first report, or Running after Pending). A task whose info URL was not
   * known at its run (a Job's pod, whose logs it names, did not exist yet) is recorded once more.
   */
  private void started(Task task, Instant at) {
    if (task.reported(at) && !task.infoRecorded) {
      task.infoRecorded = record(task);
    }
  }

  private Started run(AttemptRequest request, String name)
      throws PermanentJobException, RetryableJobException {
    try {
      return calls.call("run of " + name, () -> distributor.run(request));
    } catch (PermanentDistributorException e) {
      throw new PermanentJobException(e.getMessage(), e);
    } catch (TransientDistributorException e) {
      throw new RetryableJobException(e.getMessage(), e);
    }
  }

  /**
   * Takes the task's reports until its outcome, or, inside {@code phase}, until that phase's end.
   *
   * @return true when the task succeeded, false when {@code phase} ended
   */
  private boolean follow(JobContext<JsonNode> job, Task task, String phase) throws Exception {
    while (true) {
      if (succeededByStatus(task)) {
        return true;
      }
      StatusEvent event = next(job, task);
      if (event == null) {
        continue;
      }
      switch (event) {
        case StatusEvent.PhaseStarted p when p.phase() == null || p.phase().isBlank() ->
            log.debug("{}: ignoring the start of a phase without a name", task.name);
        case StatusEvent.PhaseStarted p -> {
          if (job.phase(p.phase(), () -> follow(job, task, p.phase()))) {
            return true;
          }
        }
        case StatusEvent.PhaseEnded p -> {
          if (phase != null && phase.equals(p.phase())) {
            return false;
          }
          log.debug("{}: ignoring the end of phase {}, which is not open", task.name, p.phase());
        }
        case StatusEvent.Progress p -> job.progress(p.percent(), p.message());
        case StatusEvent.Heartbeat h -> heartbeat(job, task, h.details());
        case StatusEvent.Succeeded s -> {
          return true;
        }
        case StatusEvent.Failed f -> {
          String error = f.error() == null ? "the task failed" : f.error();
          throw f.retryable() ? new RetryableJobException(error) : new PermanentJobException(error);
        }
      }
    }
  }

  /**
   * The task's next report, or null when none came within a poll. Stops the task, and throws, once
   * the attempt must stop or one of the task's limits passed.
   */
  private StatusEvent next(JobContext<JsonNode> job, Task task) throws Exception {
    if (job.isCancelled() || Thread.currentThread().isInterrupted()) {
      throw stop(job, task);
    }
    Instant now = clock.instant();
    String passed = task.limitPassed(now);
    if (passed != null) {
      cancel(task);
      awaitStopped(task);
      throw new RetryableJobException("timeout:" + passed);
    }
    Duration wait = task.untilNextLimit(now);
    StatusEvent event;
    try {
      event = task.mailbox.take(wait.compareTo(POLL) < 0 ? wait : POLL);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw stop(job, task);
    }
    if (event != null) {
      started(task, clock.instant());
    }
    return event;
  }

  /**
   * After the handler cancelled a task past one of its limits, waits up to the run's {@code
   * timeToStop} for the backend to say it is over (any status but Pending or Running), so the
   * attempt's failure, and the retry it brings, come after the task stopped, not beside it. A task
   * still running then is logged and left to the backend; its reports are refused by their token
   * once the attempt has failed. Without a {@code timeToStop} nothing is awaited.
   */
  private void awaitStopped(Task task) {
    Duration timeToStop = task.started.timeToStop();
    if (timeToStop == null) {
      return;
    }
    Instant deadline = clock.instant().plus(timeToStop);
    while (true) {
      TaskStatus status;
      try {
        status = calls.status(distributor, task.request, task.started.token(), task.runAt);
      } catch (TransientDistributorException e) {
        status = new TaskStatus.Running(); // unknown: ask again until the deadline
      }
      if (!(status instanceof TaskStatus.Pending) && !(status instanceof TaskStatus.Running)) {
        return;
      }
      if (!clock.instant().isBefore(deadline)) {
        log.warn(
            "{}: task {} on {} did not stop within its timeToStop ({}); left to the backend",
            task.name,
            task.started.token(),
            distributor.name(),
            timeToStop);
        return;
      }
      try {
        Thread.sleep(statusInterval); // the backend has no stop notice to wait on
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }

  /**
   * Asks the backend for the task's status when an interval has passed since the last time.
   *
   * @return true when the task succeeded
   * @throws RetryableJobException when it failed retryably or is missing
   * @throws PermanentJobException when it failed for good
   */
  private boolean succeededByStatus(Task task) throws RetryableJobException, PermanentJobException {
    Instant now = clock.instant();
    if (now.isBefore(task.nextStatusAt)) {
      return false;
    }
    task.nextStatusAt = now.plus(statusInterval);
    TaskStatus status;
    try {
      status = calls.status(distributor, task.request, task.started.token(), task.runAt);
    } catch (TransientDistributorException e) {
      log.warn("{}: no status from {}: {}", task.name, distributor.name(), e.getMessage());
      return false;
    }
    switch (status) {
      case TaskStatus.Succeeded s -> {
        log.debug("{}: task {} succeeded", task.name, task.started.token());
        return true;
      }
      case TaskStatus.Failed f -> {
        String reason = f.reason() == null ? "the task failed" : f.reason();
        if (f.retryable()) {
          throw new RetryableJobException(reason);
        }
        throw new PermanentJobException(reason);
      }
      case TaskStatus.Missing m -> throw new RetryableJobException("missing: " + m.reason());
      case TaskStatus.Pending p -> task.pending = true;
      case TaskStatus.Running r -> {
        if (task.pending) {
          started(task, now);
        }
      }
    }
    return false;
  }

  /** A heartbeat with the backend's details; details too big to keep are sent without them. */
  private static void heartbeat(JobContext<JsonNode> job, Task task, JsonNode details) {
    try {
      job.heartbeat(details);
    } catch (IllegalArgumentException e) {
      log.warn("{}: the task's heartbeat details are not kept: {}", task.name, e.getMessage());
      job.heartbeat(null);
    }
  }

  /**
   * Cancels the task of an attempt that must stop; the exception to end the handler with. What it
   * says is not reported: the attempt is withdrawn, or the worker's timeout is its outcome.
   */
  private RetryableJobException stop(JobContext<JsonNode> job, Task task) {
    boolean interrupted = Thread.interrupted(); // or the cancel's own call would fail at once
    try {
      cancel(task);
    } finally {
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
    }
    return new RetryableJobException(
        task.name + " stopped: " + job.cancellationReason().orElse("its thread was interrupted"));
  }

  /** Best effort: a task left running is the backend's to end; its reports are refused. */
  private void cancel(Task task) {
    try {
      calls.run(
          "cancel of " + task.name, () -> distributor.cancel(task.request, task.started.token()));
      log.debug("{}: cancelled task {}", task.name, task.started.token());
    } catch (DistributorException e) {
      log.warn(
          "{}: could not cancel task {} on {}: {}",
          task.name,
          task.started.token(),
          distributor.name(),
          e.getMessage());
    }
  }

  /** One attempt's task as this handler follows it. */
  private static final class Task {
    final AttemptRequest request;
    final String name;
    final Started started;
    final RemoteReports.Mailbox mailbox;
    final Instant runAt;
    Instant firstReportAt;
    Instant nextStatusAt;
    boolean pending;

    /** Whether the task's info URL was known when it was recorded for the job view. */
    boolean infoRecorded;

    Task(
        AttemptRequest request,
        String name,
        Started started,
        RemoteReports.Mailbox mailbox,
        Instant runAt) {
      this.request = request;
      this.name = name;
      this.started = started;
      this.mailbox = mailbox;
      this.runAt = runAt;
      this.nextStatusAt = runAt;
    }

    /** The task reported: the first report is its start; true for that first one. */
    boolean reported(Instant at) {
      if (firstReportAt == null) {
        firstReportAt = at;
        return true;
      }
      return false;
    }

    /** {@code timeToStart} or {@code timeToRun} when passed at {@code now}, else null. */
    String limitPassed(Instant now) {
      Instant startBy = startBy();
      if (startBy != null && !now.isBefore(startBy)) {
        return "timeToStart";
      }
      Instant outcomeBy = outcomeBy();
      if (outcomeBy != null && !now.isBefore(outcomeBy)) {
        return "timeToRun";
      }
      return null;
    }

    /** How long until the next limit passes; a poll's length when none is set. */
    Duration untilNextLimit(Instant now) {
      Instant next = startBy();
      Instant outcomeBy = outcomeBy();
      if (next == null || (outcomeBy != null && outcomeBy.isBefore(next))) {
        next = outcomeBy;
      }
      return next == null ? POLL : Duration.between(now, next);
    }

    private Instant startBy() {
      return firstReportAt == null && started.timeToStart() != null
          ? runAt.plus(started.timeToStart())
          : null;
    }

    private Instant outcomeBy() {
      if (started.timeToRun() == null) {
        return null;
      }
      if (firstReportAt != null) {
        return firstReportAt.plus(started.timeToRun());
      }
      // without a start limit, the task is taken to start when the run returned
      return started.timeToStart() == null ? runAt.plus(started.timeToRun()) : null;
    }
  }
}
