package dev.shepherd.engine.callbacks;

import dev.shepherd.distribution.Notification;
import dev.shepherd.distribution.http.CallbackRefusedException;
import dev.shepherd.distribution.http.CallbackSignatures;
import dev.shepherd.distribution.http.CallbackSignatures.AttemptKey;
import dev.shepherd.distribution.http.HttpCallbacks;
import dev.shepherd.distribution.http.HttpDistributor;
import dev.shepherd.engine.cancel.WorkerOrders;
import dev.shepherd.model.JobState;
import dev.shepherd.model.MetricNames;
import dev.shepherd.model.StatusEvent;
import dev.shepherd.model.WorkerControl;
import dev.shepherd.store.JobQueries;
import dev.shepherd.store.JobQueries.CurrentAttempt;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * Takes the callbacks a service makes for an attempt it runs for a worker (the {@code http}
 * distributor, ADR 44 and 45) and hands each checked event to that worker.
 *
 * <p>A callback is for {@code <jobId>.<attempt>}. It is accepted only while that attempt is the
 * job's current one and RUNNING, when its body is a status event for that attempt and the claim
 * Redis holds (the fencing token), signed with the secret derived from them, within the timestamp
 * tolerance ({@link HttpCallbacks}). An accepted event goes to the worker holding the attempt as a
 * {@link WorkerControl#notify} order; the worker's handler reports it through its own fenced path,
 * so nothing here writes the job. An event the broker cannot route (the worker is gone or
 * reconnecting) is not accepted: the service is told to try again, and the worker's lease decides
 * what happens to the attempt meanwhile.
 */
public final class AttemptCallbacks {

  /** What became of one callback. */
  public sealed interface Answer {
    /** Handed to the worker that holds the attempt. */
    record Accepted(String workerId, StatusEvent event) implements Answer {}

    /** No job has this id. */
    record UnknownJob(String detail) implements Answer {}

    /** The attempt is over or not running: a newer attempt, or the job ended or waits. */
    record NotCurrent(String detail, JobState state, int currentAttempt) implements Answer {}

    /** The callback failed its check: signature, timestamp, claim or body. */
    record Refused(CallbackSignatures.Refusal refusal, String detail) implements Answer {}

    /** The worker holding the attempt could not be reached; the service should try again. */
    record WorkerUnreachable(String detail) implements Answer {}
  }

  private final JobQueries jobs;
  private final HttpCallbacks callbacks;
  private final WorkerOrders orders;
  private final MeterRegistry meters;

  public AttemptCallbacks(
      JobQueries jobs, HttpCallbacks callbacks, WorkerOrders orders, MeterRegistry meters) {
    this.jobs = jobs;
    this.callbacks = callbacks;
    this.orders = orders;
    this.meters = meters;
  }

  /**
   * @param jobId the job the callback's path names
   * @param attempt the attempt number the callback's path names
   * @param notification the request's body, method, path and signature headers
   */
  public Answer receive(String jobId, int attempt, Notification notification) {
    Answer answer = check(jobId, attempt, notification);
    meters
        .counter(
            MetricNames.ATTEMPT_CALLBACKS,
            MetricNames.TAG_DISTRIBUTOR,
            HttpDistributor.NAME,
            MetricNames.TAG_ANSWER,
            switch (answer) {
              case Answer.Accepted a -> "accepted";
              case Answer.UnknownJob u -> "unknown_job";
              case Answer.NotCurrent n -> "not_current";
              case Answer.Refused r -> r.refusal().name().toLowerCase(Locale.ROOT);
              case Answer.WorkerUnreachable w -> "worker_unreachable";
            })
        .increment();
    return answer;
  }

  private Answer check(String jobId, int attempt, Notification notification) {
    Optional<CurrentAttempt> found = jobs.currentAttempt(jobId);
    if (found.isEmpty()) {
      return new Answer.UnknownJob("no job with id '" + jobId + "'");
    }
    CurrentAttempt current = found.get();
    if (current.attempt() != attempt || current.state() != JobState.RUNNING) {
      return new Answer.NotCurrent(
          "attempt "
              + attempt
              + " of job '"
              + jobId
              + "' is not running: the job is "
              + current.state()
              + " in attempt "
              + current.attempt()
              + "; a report for an attempt that is over is refused",
          current.state(),
          current.attempt());
    }
    StatusEvent event;
    try {
      event =
          callbacks.verify(new AttemptKey(jobId, attempt, current.fencingToken()), notification);
    } catch (CallbackRefusedException e) {
      return new Answer.Refused(e.refusal(), e.getMessage());
    }
    if (!orders.send(
        current.workerId(), WorkerControl.notify(jobId, current.fencingToken(), List.of(event)))) {
      return new Answer.WorkerUnreachable(
          "worker '"
              + current.workerId()
              + "', which holds attempt "
              + attempt
              + " of job '"
              + jobId
              + "', cannot be reached now; send the event again");
    }
    return new Answer.Accepted(current.workerId(), event);
  }
}
