package dev.shepherd.engine.status;

import dev.shepherd.engine.JobOutcomeMeters;
import dev.shepherd.model.JobMdc;
import dev.shepherd.model.MetricNames;
import dev.shepherd.model.RetryPolicy;
import dev.shepherd.model.StatusEvent;
import dev.shepherd.model.StatusMessages;
import dev.shepherd.store.DeadJobs;
import dev.shepherd.store.ReportResult;
import dev.shepherd.store.Reports;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.random.RandomGenerator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;
import tools.jackson.core.JacksonException;

/**
 * Reads status events and applies them through the fenced store script, one or a batch at a time.
 */
public final class StatusApplier {

  private static final Logger log = LoggerFactory.getLogger(StatusApplier.class);

  /** Resolved once: a lookup of the event's deserializer per message is measurable. */
  private final Reports reports;

  private final DeadJobs deadJobs;
  private final RetryPolicy retryPolicy;
  private final RandomGenerator random;
  private final Counter staleReports;
  private final Counter duplicateReports;
  private final Counter deadMessages;
  private final MeterRegistry meters;
  private final JobOutcomeMeters outcomes;
  private final Function<String, String> poolOf;
  private final Map<List<String>, Counter> counters = new ConcurrentHashMap<>();

  /**
   * @param deadJobs records status messages that cannot be read
   * @param poolOf the pool of a job type, for the metrics' pool tag
   */
  public StatusApplier(
      Reports reports,
      DeadJobs deadJobs,
      RetryPolicy retryPolicy,
      RandomGenerator random,
      MeterRegistry meters,
      Function<String, String> poolOf) {
    this.meters = meters;
    this.outcomes = new JobOutcomeMeters(meters);
    this.poolOf = poolOf;
    this.reports = reports;
    this.deadJobs = deadJobs;
    this.retryPolicy = retryPolicy;
    this.random = random;
    this.staleReports =
        Counter.builder(MetricNames.STALE_REPORTS)
            .description("status events refused because their fencing token was stale")
            .register(meters);
    this.duplicateReports =
        Counter.builder(MetricNames.DUPLICATE_REPORTS)
            .description("status events ignored as duplicates or late arrivals")
            .register(meters);
    this.deadMessages =
        Counter.builder(MetricNames.UNREADABLE_MESSAGES)
            .tag("source", "status")
            .description("status messages that could not be read and became dead-job records")
            .register(meters);
  }

  /**
   * Applies the events in {@code body}, one or an array of them ({@link StatusMessages}), in order;
   * an unreadable body becomes a dead-job record. Returns the outcome of its last event, or null
   * for an unreadable body. Throws only when Redis fails, so the caller leaves the message unacked
   * and it is delivered again (applying its events again is safe: they come back as duplicates).
   */
  public ReportResult apply(byte[] body, String source) {
    List<StatusEvent> events = read(body, source);
    if (events == null) {
      return null;
    }
    if (events.size() == 1) {
      return apply(events.getFirst());
    }
    List<ReportResult> results = new ArrayList<>(events.size());
    reports.reportAll(
        events.stream().map(e -> new Reports.Report(e, backoff(e))).toList(),
        (r, result) -> results.add(withContext(r.event(), null, () -> handle(r.event(), result))));
    return results.getLast();
  }

  public ReportResult apply(StatusEvent event) {
    return withContext(event, null, () -> handle(event, reports.report(event, backoff(event))));
  }

  /**
   * A status message's body, with the trace id of each of its events (from its {@code traceparent}
   * header, or from {@link StatusMessages#TRACEPARENTS_HEADER} for an array), in order; fewer ids
   * than events leave the rest without one.
   */
  public record Incoming(byte[] body, List<String> traceIds) {

    public Incoming(byte[] body, String traceId) {
      this(body, traceId == null ? List.of() : List.of(traceId));
    }
  }

  /**
   * Applies a batch of messages with one store call per partition (ADR 27), their events in order,
   * each handled as {@link #apply(StatusEvent)} handles one. Returns false, having changed nothing,
   * when a body cannot be read: the caller then applies the messages one at a time, so that only
   * the unreadable one becomes a dead-job record. Throws when Redis fails, possibly after some
   * partitions were applied; applying the batch again is safe (their events come back as
   * duplicates).
   */
  public boolean applyAll(List<Incoming> batch) {
    List<Reports.Report> parsed = new ArrayList<>(batch.size());
    Map<StatusEvent, String> traces = new IdentityHashMap<>();
    for (Incoming in : batch) {
      List<StatusEvent> events;
      try {
        events = parse(in.body());
      } catch (JacksonException | IllegalArgumentException e) {
        return false;
      }
      for (int i = 0; i < events.size(); i++) {
        StatusEvent event = events.get(i);
        parsed.add(new Reports.Report(event, backoff(event)));
        String traceId = i < in.traceIds().size() ? in.traceIds().get(i) : null;
        if (traceId != null) {
          traces.put(event, traceId);
        }
      }
    }
    applyParsed(parsed, traces);
    return true;
  }

  /**
   * Applies the events a worker writes into the store itself instead of publishing them (ADR 56),
   * in order, with one store call per partition, each handled (counted, logged) as {@link
   * #apply(StatusEvent)} handles one. {@code traceIds} holds each event's trace id, or null. Throws
   * when Redis fails, possibly after some partitions were applied; the worker then publishes them
   * to the status queue, where they come back as duplicates.
   */
  public void applyEvents(List<StatusEvent> events, List<String> traceIds) {
    List<Reports.Report> parsed = new ArrayList<>(events.size());
    Map<StatusEvent, String> traces = new IdentityHashMap<>();
    for (int i = 0; i < events.size(); i++) {
      StatusEvent event = events.get(i);
      parsed.add(new Reports.Report(event, backoff(event)));
      if (traceIds.get(i) != null) {
        traces.put(event, traceIds.get(i));
      }
    }
    applyParsed(parsed, traces);
  }

  private void applyParsed(List<Reports.Report> parsed, Map<StatusEvent, String> traces) {
    reports.reportAll(
        parsed,
        (r, result) ->
            withContext(r.event(), traces.get(r.event()), () -> handle(r.event(), result)));
  }

  private static List<StatusEvent> parse(byte[] body) {
    List<StatusEvent> events = StatusMessages.decode(body);
    events.forEach(StatusApplier::requireFields);
    return events;
  }

  /** The events in {@code body}, or null when it cannot be read (it became a dead-job record). */
  private List<StatusEvent> read(byte[] body, String source) {
    try {
      return parse(body);
    } catch (JacksonException | IllegalArgumentException e) {
      deadMessages.increment();
      deadJobs.recordDead(
          null,
          null,
          "unreadable status event: " + message(e),
          source,
          new String(body, StandardCharsets.UTF_8));
      return null;
    }
  }

  private Duration backoff(StatusEvent event) {
    return retryPolicy.backoff(event.attempt(), random);
  }

  /** Runs {@code work} with the event's job (and the trace, when given) in the log context. */
  private <T> T withContext(StatusEvent event, String traceId, Supplier<T> work) {
    Map<String, String> mdc =
        JobMdc.of(event.jobId(), event.attempt(), event.workerId(), event.fencingToken());
    mdc.forEach(MDC::put);
    if (traceId != null) {
      MDC.put(JobMdc.TRACE_ID, traceId);
    }
    try {
      return work.get();
    } finally {
      mdc.keySet().forEach(MDC::remove);
      if (traceId != null) {
        MDC.remove(JobMdc.TRACE_ID);
      }
    }
  }

  /** Counts and logs what applying {@code event} did. */
  private ReportResult handle(StatusEvent event, ReportResult result) {
    switch (result.outcome()) {
      case STALE -> {
        staleReports.increment();
        log.warn(
            "refused stale {} for job {} attempt {} from worker {} (token {})",
            event.eventName(),
            event.jobId(),
            event.attempt(),
            event.workerId(),
            event.fencingToken());
      }
      case DUPLICATE, FINISHED -> duplicateReports.increment();
      case APPLIED -> {
        countOutcome(event, result.state());
        // a job that succeeds is logged at DEBUG (a line per job is the happy path's noise); a
        // failure, and every refusal above, stays at INFO or WARN
        if (event instanceof StatusEvent.Failed) {
          log.info(
              "job {} attempt {} {} -> {}",
              event.jobId(),
              event.attempt(),
              event.eventName(),
              result.state());
        } else if (event instanceof StatusEvent.Succeeded) {
          log.debug(
              "job {} attempt {} {} -> {}",
              event.jobId(),
              event.attempt(),
              event.eventName(),
              result.state());
        }
      }
      case MISSING ->
          log.warn("status event {} for unknown job {}", event.eventName(), event.jobId());
    }
    return result;
  }

  private void countOutcome(StatusEvent event, String state) {
    String pool = String.valueOf(poolOf.apply(event.type()));
    switch (event) {
      case StatusEvent.Succeeded e -> count(MetricNames.JOBS_SUCCEEDED, e.type(), pool);
      case StatusEvent.Failed e -> {
        count(MetricNames.JOBS_FAILED, e.type(), pool);
        outcomes.count(state, e.type(), pool);
      }
      default -> {}
    }
  }

  private void count(String name, String type, String pool) {
    // looked up once per (name, type, pool): a registry lookup per event costs more than the count
    counters
        .computeIfAbsent(
            List.of(name, type, pool),
            k -> meters.counter(name, MetricNames.TAG_TYPE, type, MetricNames.TAG_POOL, pool))
        .increment();
  }

  private static void requireFields(StatusEvent event) {
    if (event.jobId() == null || event.type() == null || event.at() == null) {
      throw new IllegalArgumentException("jobId, type and at are required");
    }
    if (event.attempt() < 1 || event.fencingToken() < 1 || event.sequence() < 1) {
      throw new IllegalArgumentException("attempt, fencingToken and sequence must be >= 1");
    }
  }

  private static String message(Exception e) {
    return e instanceof JacksonException j ? j.getOriginalMessage() : e.getMessage();
  }
}
