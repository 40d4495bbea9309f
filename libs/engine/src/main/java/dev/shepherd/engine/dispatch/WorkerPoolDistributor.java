package dev.shepherd.engine.dispatch;

import dev.shepherd.distribution.AttemptRequest;
import dev.shepherd.distribution.Distributor;
import dev.shepherd.distribution.DistributorConfig;
import dev.shepherd.distribution.InvalidDistributorConfigException;
import dev.shepherd.distribution.Notification;
import dev.shepherd.distribution.PermanentDistributorException;
import dev.shepherd.distribution.RunResult;
import dev.shepherd.distribution.Started;
import dev.shepherd.distribution.TaskStatus;
import dev.shepherd.distribution.TaskToken;
import dev.shepherd.distribution.TransientDistributorException;
import dev.shepherd.engine.cancel.WorkerOrders;
import dev.shepherd.messaging.ConfirmingPublisher;
import dev.shepherd.messaging.OutgoingMessage;
import dev.shepherd.messaging.Topology;
import dev.shepherd.model.Json;
import dev.shepherd.model.StatusEvent;
import dev.shepherd.model.StatusMessages;
import dev.shepherd.model.TraceParent;
import dev.shepherd.model.WorkMessage;
import dev.shepherd.model.WorkerControl;
import dev.shepherd.store.JobQueries;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import tools.jackson.core.JacksonException;

/**
 * {@code worker-pool}: Shepherd's own path as a {@link Distributor} (ADR 48). An attempt's task is
 * its work message on the work exchange, routed by the job's type to its pool's queue, where an SDK
 * worker claims it. The claim issues the fencing token, so {@link #run} takes an attempt that has
 * none yet (0); the token of the task names the job and attempt ({@code <jobId>.<attempt>}).
 *
 * <ul>
 *   <li>{@link #runAll} is what the {@link Dispatcher} hands every due attempt out through: one
 *       batch of work messages, published together and confirmed once. A message the broker cannot
 *       route (no pool's queue is bound to the type) is {@link RunResult.Refused}; one it did not
 *       confirm is {@link RunResult.NotYet} and is published again.
 *   <li>{@link #status} reads the job's current attempt from Redis (one read).
 *   <li>{@link #cancel} is today's {@link WorkerControl.Kind#CANCEL} order to the worker holding
 *       the claim; changing the job record is {@code Cancellations}' part.
 *   <li>{@link #handleNotification}: a worker's notifications are its status messages; the events
 *       of the attempt's claim are returned, anything else is refused.
 *   <li>{@link #infoUrl} is the job's page in the console.
 * </ul>
 *
 * <p>Every job type runs through it unless configured otherwise: an {@code http} or {@code
 * kubernetes-job} attempt, too, is a work message claimed by a worker of the type's pool, whose
 * handler then runs the remote task (ADR 45).
 */
public final class WorkerPoolDistributor implements Distributor {

  public static final String NAME = DistributorConfig.WORKER_POOL;

  /** The configuration of every type that names no other distributor: it has no settings. */
  public static final DistributorConfig CONFIG = new DistributorConfig(NAME, Map.of());

  private final Topology topology;
  private final ConfirmingPublisher publisher;
  private final JobQueries queries;
  private final WorkerOrders orders;

  /**
   * @param queries reads an attempt's state for {@link #status} and its worker for {@link #cancel}
   * @param orders sends {@link #cancel}'s order to the worker
   */
  public WorkerPoolDistributor(
      Topology topology, ConfirmingPublisher publisher, JobQueries queries, WorkerOrders orders) {
    this.topology = topology;
    this.publisher = publisher;
    this.queries = queries;
    this.orders = orders;
  }

  /**
   * A distributor that only runs attempts: what a {@link Dispatcher} built without one uses. {@link
   * #status} and {@link #cancel} throw {@link IllegalStateException}.
   */
  public static WorkerPoolDistributor publishing(Topology topology, ConfirmingPublisher publisher) {
    return new WorkerPoolDistributor(topology, publisher, null, null);
  }

  @Override
  public String name() {
    return NAME;
  }

  /**
   * A type's pool is the topology's (or the catalog's) choice, not a setting: {@code worker-pool}
   * takes none.
   */
  @Override
  public void validate(String type, DistributorConfig config) {
    var problems = new ArrayList<InvalidDistributorConfigException.Problem>();
    for (String setting : config.settings().keySet()) {
      problems.add(
          new InvalidDistributorConfigException.Problem(
              type,
              setting,
              "is not a worker-pool setting: worker-pool takes none (the topology names a type's"
                  + " pool)"));
    }
    if (!problems.isEmpty()) {
      throw new InvalidDistributorConfigException(problems);
    }
  }

  /** The task's token: the job and the attempt its work message carries. */
  public static TaskToken token(AttemptRequest attempt) {
    return new TaskToken(attempt.jobId() + "." + attempt.attempt());
  }

  @Override
  public Started run(AttemptRequest attempt) {
    return switch (runAll(List.of(attempt)).getFirst()) {
      case RunResult.Ran ran -> ran.started();
      case RunResult.Refused refused -> throw new PermanentDistributorException(refused.reason());
      case RunResult.NotYet notYet -> throw new TransientDistributorException(notYet.reason());
    };
  }

  /**
   * Publishes a work message per attempt, together, and waits for the broker's confirms once.
   * Idempotent per attempt as the SPI asks: a message published twice is claimed once, since a
   * claim is refused to an attempt another claim holds or that is over.
   */
  @Override
  public List<RunResult> runAll(List<AttemptRequest> attempts) {
    List<OutgoingMessage> messages = new ArrayList<>(attempts.size());
    for (AttemptRequest attempt : attempts) {
      messages.add(toMessage(attempt));
    }
    ConfirmingPublisher.Published published = publisher.publishBatch(messages);
    Map<String, RunResult> failed = new HashMap<>();
    published
        .failed()
        .forEach(
            m ->
                failed.put(
                    m.messageId(), new RunResult.NotYet("the broker did not confirm the message")));
    published
        .unroutable()
        .forEach(
            m ->
                failed.put(
                    m.messageId(),
                    new RunResult.Refused(
                        "no handler for job type "
                            + m.routingKey()
                            + ": the broker has no queue bound to it (unroutable)")));
    List<RunResult> results = new ArrayList<>(attempts.size());
    for (AttemptRequest attempt : attempts) {
      RunResult result = failed.isEmpty() ? null : failed.get(messageId(attempt));
      results.add(
          result != null ? result : new RunResult.Ran(Started.withoutLimits(token(attempt))));
    }
    return results;
  }

  /**
   * The attempt as its job record has it now. Its work message not claimed yet is {@link
   * TaskStatus.Pending} (as is one whose job waits for its retry time); claimed and running, {@link
   * TaskStatus.Running} (a claim other than the request's, when it names one, is {@link
   * TaskStatus.Missing}); a later attempt means this one failed and the job retries; a job that
   * ended is its end.
   */
  @Override
  public TaskStatus status(AttemptRequest attempt, TaskToken token) {
    var current = requireQueries().currentAttempt(attempt.jobId());
    if (current.isEmpty()) {
      return new TaskStatus.Missing("no job " + attempt.jobId() + " (it expired or never was)");
    }
    var now = current.get();
    if (now.attempt() > attempt.attempt()) {
      return new TaskStatus.Failed(
          "attempt " + attempt.attempt() + " is over: the job is at attempt " + now.attempt(),
          true);
    }
    if (now.attempt() < attempt.attempt()) {
      return new TaskStatus.Pending();
    }
    boolean otherClaim =
        attempt.fencingToken() != 0
            && now.fencingToken() != 0
            && now.fencingToken() != attempt.fencingToken();
    return switch (now.state()) {
      // a job waiting for its retry is at the attempt that retry runs
      case SUBMITTED, SCHEDULED, QUEUED, RETRY_WAIT -> new TaskStatus.Pending();
      case RUNNING ->
          otherClaim
              ? new TaskStatus.Missing(
                  "attempt "
                      + attempt.attempt()
                      + " is held by another claim (fencing token "
                      + now.fencingToken()
                      + ")")
              : new TaskStatus.Running();
      case SUCCEEDED -> new TaskStatus.Succeeded();
      case DEAD -> new TaskStatus.Failed("the job is DEAD", false);
      case CANCELLED -> new TaskStatus.Failed("the job was cancelled", false);
    };
  }

  /**
   * Tells the worker that holds the attempt's claim to stop it ({@link WorkerControl.Kind#CANCEL}).
   * An attempt no worker holds (not claimed, replaced by a later one, or over) needs no order.
   */
  @Override
  public void cancel(AttemptRequest attempt, TaskToken token) {
    var current = requireQueries().currentAttempt(attempt.jobId());
    if (current.isEmpty()) {
      return;
    }
    var now = current.get();
    boolean held =
        now.attempt() == attempt.attempt()
            && now.workerId() != null
            && now.fencingToken() != 0
            && (attempt.fencingToken() == 0 || attempt.fencingToken() == now.fencingToken())
            && (now.state() == dev.shepherd.model.JobState.RUNNING
                || now.state() == dev.shepherd.model.JobState.CANCELLED);
    if (held) {
      orders.send(
          now.workerId(),
          new WorkerControl(
              WorkerControl.Kind.CANCEL,
              attempt.jobId(),
              now.fencingToken(),
              NAME,
              "attempt " + attempt.attempt() + " cancelled"));
    }
  }

  /** The job's page in the scheduler's console, where its attempts and their workers are listed. */
  @Override
  public Optional<URI> infoUrl(AttemptRequest attempt, TaskToken token) {
    return Optional.of(
        URI.create("/console/jobs/" + URLEncoder.encode(attempt.jobId(), StandardCharsets.UTF_8)));
  }

  /**
   * A worker's status message (one event or an array, {@link StatusMessages}): its events, when
   * every one is this attempt's, of its claim when the request names one.
   *
   * @throws PermanentDistributorException for an unreadable body or an event of another job,
   *     attempt or claim
   */
  @Override
  public List<StatusEvent> handleNotification(
      AttemptRequest attempt, TaskToken token, Notification notification) {
    List<StatusEvent> events;
    try {
      events = StatusMessages.decode(notification.body().getBytes(StandardCharsets.UTF_8));
    } catch (JacksonException | IllegalArgumentException e) {
      throw new PermanentDistributorException("unreadable status message: " + e.getMessage());
    }
    for (StatusEvent event : events) {
      boolean ours =
          event.jobId().equals(attempt.jobId())
              && event.attempt() == attempt.attempt()
              && (attempt.fencingToken() == 0 || event.fencingToken() == attempt.fencingToken());
      if (!ours) {
        throw new PermanentDistributorException(
            "an event of job "
                + event.jobId()
                + " attempt "
                + event.attempt()
                + " (fencing token "
                + event.fencingToken()
                + ") is not attempt "
                + attempt.attempt()
                + " of job "
                + attempt.jobId()
                + "'s");
      }
    }
    return events;
  }

  private JobQueries requireQueries() {
    if (queries == null) {
      throw new IllegalStateException(
          "this worker-pool distributor only runs attempts: build it with the job queries and"
              + " worker orders to ask a status or cancel");
    }
    return queries;
  }

  private OutgoingMessage toMessage(AttemptRequest attempt) {
    var work =
        new WorkMessage(
            attempt.jobId(),
            attempt.type(),
            attempt.attempt(),
            attempt.payload(),
            attempt.submittedAt());
    String traceparent = attempt.traceparent();
    return new OutgoingMessage(
        topology.workExchange(),
        attempt.type(),
        messageId(attempt),
        Json.mapper().writeValueAsBytes(work),
        traceparent == null
            ? Map.of()
            : Map.of(
                TraceParent.HEADER,
                TraceParent.parse(traceparent).map(t -> t.child().toString()).orElse(traceparent)));
  }

  /** The work message's id, which the broker's confirms and returns are matched by. */
  static String messageId(AttemptRequest attempt) {
    return attempt.jobId() + ":" + attempt.attempt();
  }
}
