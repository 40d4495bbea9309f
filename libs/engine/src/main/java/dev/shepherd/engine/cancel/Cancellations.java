package dev.shepherd.engine.cancel;

import dev.shepherd.model.CancelRequest;
import dev.shepherd.model.JobState;
import dev.shepherd.model.JobSummary;
import dev.shepherd.model.Json;
import dev.shepherd.model.MetricNames;
import dev.shepherd.model.WorkerControl;
import dev.shepherd.store.CancelResult;
import dev.shepherd.store.Cancels;
import dev.shepherd.store.DeadJobs;
import dev.shepherd.store.JobQueries;
import io.micrometer.core.instrument.MeterRegistry;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.core.JacksonException;

/**
 * Cancels jobs. The job record changes first, in one Lua call ({@link Cancels#cancel}): a waiting
 * job is CANCELLED and never handed out, a running one is CANCELLED and its attempt's renewals and
 * reports are refused. Then the worker that runs it is told through the control exchange ({@link
 * WorkerControl.Kind#CANCEL}), so its handler sees {@code isCancelled()} now rather than at its
 * next lease renewal. That order is a courtesy: if it is lost (the broker is down, the worker's
 * queue is gone) the renewal tells the worker within a third of the lease TTL.
 *
 * <pre>{@code
 * var cancellations = new Cancellations(store.cancels(), store.queries(), store.deadJobs(),
 *     new WorkerOrders(topology, publisher), meters);
 * cancellations.cancel(jobId, "ops@example.org", "duplicate of 01-...");
 * }</pre>
 */
public final class Cancellations {

  private static final Logger log = LoggerFactory.getLogger(Cancellations.class);

  /** The most jobs one cancel by filter touches; the caller is told when more matched. */
  public static final int MAX_BY_FILTER = 1_000;

  private final Cancels cancels;
  private final JobQueries queries;
  private final DeadJobs deadJobs;
  private final WorkerOrders orders;
  private final MeterRegistry meters;

  /**
   * @param queries finds the jobs a cancel by filter names
   * @param deadJobs records cancel requests that cannot be read or name no job
   */
  public Cancellations(
      Cancels cancels,
      JobQueries queries,
      DeadJobs deadJobs,
      WorkerOrders orders,
      MeterRegistry meters) {
    this.cancels = cancels;
    this.queries = queries;
    this.deadJobs = deadJobs;
    this.orders = orders;
    this.meters = meters;
  }

  /**
   * Cancels one job and, when it was running, tells its worker.
   *
   * @param by who cancels ("anonymous" when blank)
   * @param reason why (may be null)
   */
  public CancelResult cancel(String jobId, String by, String reason) {
    String who = by == null || by.isBlank() ? "anonymous" : by.trim();
    CancelResult result = cancels.cancel(jobId, who, reason);
    if (result.outcome() == CancelResult.Outcome.CANCELLED) {
      meters
          .counter(
              MetricNames.JOBS_CANCELLED,
              MetricNames.TAG_TYPE,
              result.type(),
              "from",
              result.previous().name())
          .increment();
      log.info("job {} cancelled by {} ({} before): {}", jobId, who, result.previous(), reason);
      if (result.wasRunning()) {
        tellWorker(jobId, result, who, reason);
      }
    }
    return result;
  }

  /** What a cancel by filter did. */
  public record Batch(
      String type, JobState state, int matched, int cancelled, int alreadyFinished, boolean more) {}

  /**
   * Cancels the newest jobs of one type in one state (either may be null, not both: an operator
   * stopping a flood names what floods), at most {@link #MAX_BY_FILTER} of them; {@code more} says
   * that more matched and a second call is needed.
   */
  public Batch cancelMatching(String type, JobState state, String by, String reason) {
    if (type == null && state == null) {
      throw new IllegalArgumentException("name a type or a state (or both)");
    }
    if (state != null && state.isTerminal()) {
      throw new IllegalArgumentException(state + " is terminal: nothing to cancel");
    }
    List<JobSummary> found = new ArrayList<>();
    if (state != null) {
      found.addAll(queries.list(state, type, MAX_BY_FILTER + 1));
    } else {
      for (JobState s : JobState.values()) {
        if (!s.isTerminal() && found.size() <= MAX_BY_FILTER) {
          found.addAll(queries.list(s, type, MAX_BY_FILTER + 1 - found.size()));
        }
      }
    }
    boolean more = found.size() > MAX_BY_FILTER;
    List<JobSummary> batch = more ? found.subList(0, MAX_BY_FILTER) : found;
    int cancelled = 0;
    int finished = 0;
    for (JobSummary job : batch) {
      switch (cancel(job.id(), by, reason).outcome()) {
        case CANCELLED -> cancelled++;
        case FINISHED, MISSING -> finished++; // it ended between the listing and the cancel
      }
    }
    return new Batch(type, state, batch.size(), cancelled, finished, more);
  }

  /** What became of an AMQP cancel request. */
  public sealed interface Requested {
    /** The request was applied: the job is CANCELLED, or had already ended. */
    record Applied(CancelResult result) implements Requested {}

    /** The request could not be read, or names no job: recorded as a dead job with the reason. */
    record Refused(String reason) implements Requested {}
  }

  /**
   * Applies a cancel request read from the control exchange. One that cannot be read, or that names
   * no job, becomes a dead-job record with the reason and the raw message; one for a job that
   * already ended changes nothing (a cancel is idempotent). Throws only when Redis fails.
   */
  public Requested apply(byte[] body, String source) {
    return apply(body, source, null, (userId, jobId) -> Verdict.ANYONE);
  }

  /**
   * Whether a cancel request's sender may cancel its job (ADR 40).
   *
   * @param refusal why not (it becomes the dead-job record's reason), or null when it may
   * @param actor who the job's history names as cancelling it, or null for the request's {@code by}
   */
  public record Verdict(String refusal, String actor) {

    /** Access control off: anyone may, as the request says. */
    public static final Verdict ANYONE = new Verdict(null, null);
  }

  /**
   * As {@link #apply(byte[], String)}, for a request sent by broker user {@code userId} (null for
   * none), judged by {@code authorize} before anything changes.
   */
  public Requested apply(
      byte[] body,
      String source,
      String userId,
      java.util.function.BiFunction<String, String, Verdict> authorize) {
    String raw = new String(body, StandardCharsets.UTF_8);
    CancelRequest request;
    try {
      request = Json.mapper().readValue(body, CancelRequest.class);
    } catch (JacksonException e) {
      return refuse("unreadable cancel request: " + e.getOriginalMessage(), source, raw);
    }
    if (request.jobId() == null || request.jobId().isBlank()) {
      return refuse("cancel request without a jobId", source, raw);
    }
    Verdict verdict = authorize.apply(userId, request.jobId());
    if (verdict.refusal() != null) {
      return refuse(verdict.refusal(), source, raw);
    }
    CancelResult result =
        cancel(
            request.jobId(),
            verdict.actor() != null ? verdict.actor() : request.by(),
            request.reason());
    if (result.outcome() == CancelResult.Outcome.MISSING) {
      return refuse("cancel request names no job '" + request.jobId() + "'", source, raw);
    }
    return new Requested.Applied(result);
  }

  private Requested refuse(String reason, String source, String raw) {
    var dead = deadJobs.recordDead(null, null, reason, source, raw);
    meters.counter(MetricNames.UNREADABLE_MESSAGES, "source", "cancel").increment();
    log.warn("cancel request from {} recorded as dead job {}: {}", source, dead.id(), reason);
    return new Requested.Refused(reason);
  }

  private void tellWorker(String jobId, CancelResult result, String by, String reason) {
    orders.send(
        result.workerId(),
        new WorkerControl(
            WorkerControl.Kind.CANCEL,
            jobId,
            result.fencingToken(),
            by,
            reason == null ? "" : reason));
  }
}
