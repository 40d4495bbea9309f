package dev.shepherd.worker;

import dev.shepherd.model.JobMdc;
import dev.shepherd.model.Json;
import dev.shepherd.model.StatusEvent;
import dev.shepherd.model.WorkMessage;
import dev.shepherd.store.ClaimResult;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;

/**
 * Runs one claimed attempt to its end, on the slot's thread, with the attempt's MDC: binds the work
 * to its handler and payload (a missing handler or a payload that does not fit fails the attempt at
 * once), runs the handler while its lease is renewed ({@link LeaseKeeper}) and its timeouts kept
 * ({@link LocalTimeouts}), classifies what the handler threw into a {@link Failure}, and finishes:
 * holds the lease as waiting for the outcome (ADR 11, 37) and publishes the outcome ({@link
 * OutcomePublisher}). The publish and its confirm happen off the slot's thread (ADR 39), so the
 * slot takes its next delivery while the broker confirms; at most {@code capacity} outcomes are in
 * flight, and a slot that finds them all taken publishes its own. The first try is handed to the
 * status sender with no thread waiting for it (what follows the confirm runs on the sender's
 * thread); only an outcome whose first try failed gets a virtual thread for its retries. An attempt
 * withdrawn meanwhile (cancelled, abandoned, its lease lost) reports nothing.
 */
final class AttemptExecution implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(AttemptExecution.class);

  private final WorkerSettings settings;
  private final Handlers handlers;
  private final LeaseKeeper leases;
  private final LocalTimeouts timeouts;
  private final StatusPublisher statuses;
  private final Set<Attempt<?>> running;
  private final Clock clock;
  private final WorkerMeters meters;

  /** Where outcomes whose first try failed are tried again: a virtual thread each. */
  private final ExecutorService outcomes =
      Executors.newThreadPerTaskExecutor(Thread.ofVirtual().name("shepherd-outcome-", 0).factory());

  /** One permit per outcome that may be in flight at once: the worker's capacity. */
  private final Semaphore inFlight;

  /**
   * @param running the attempts whose handler runs now; this adds and removes them
   */
  AttemptExecution(
      WorkerSettings settings,
      Handlers handlers,
      LeaseKeeper leases,
      LocalTimeouts timeouts,
      StatusPublisher statuses,
      Set<Attempt<?>> running,
      Clock clock,
      WorkerMeters meters) {
    this.settings = settings;
    this.handlers = handlers;
    this.leases = leases;
    this.timeouts = timeouts;
    this.statuses = statuses;
    this.running = running;
    this.clock = clock;
    this.meters = meters;
    this.inFlight = new Semaphore(settings.capacity());
  }

  /**
   * Waits up to {@code atMost} for the outcomes in flight to be confirmed (or given up), then stops
   * publishing off the slots' threads; an outcome still in flight after that is left to its retries
   * and, if they fail, to its lease's expiry.
   *
   * @return whether every outcome in flight was settled in time
   */
  boolean awaitOutcomes(Duration atMost) {
    boolean settled;
    try {
      settled = inFlight.tryAcquire(settings.capacity(), atMost.toNanos(), TimeUnit.NANOSECONDS);
      if (settled) {
        inFlight.release(settings.capacity());
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      settled = false;
    }
    outcomes.shutdown();
    return settled;
  }

  @Override
  public void close() {
    outcomes.shutdownNow();
  }

  void run(ClaimedWork claimed) {
    WorkMessage work = claimed.work();
    var claim = claimOf(claimed);
    MDC.setContextMap(claim.mdc());
    MDC.put(JobMdc.TRACE_ID, claimed.trace().traceId());
    try {
      log.debug("claimed {}", claim); // per job: DEBUG; what goes wrong is logged at WARN
      meters.claimed(
          work.type(),
          work.submittedAt() == null
              ? null
              : Duration.between(work.submittedAt(), clock.instant()));
      switch (handlers.bind(work)) {
        case Handlers.Missing missing -> {
          var attempt = attempt(claim, null, claimed, null);
          finish(attempt, attempt.failed(Failure.noHandler(missing.type(), settings.workerId())));
        }
        case Handlers.Unbound unbound -> {
          var attempt = attempt(claim, null, claimed, null);
          finish(
              attempt,
              attempt.failed(
                  Failure.unboundPayload(unbound.handler().payloadType(), unbound.problem())));
        }
        case Handlers.Bound<?> bound -> run(bound, claim, claimed);
      }
    } finally {
      MDC.clear();
    }
  }

  private <P> void run(Handlers.Bound<P> bound, Claim claim, ClaimedWork claimed) {
    Attempt<P> attempt =
        attempt(claim, bound.payload(), claimed, heartbeatDetails(claimed.heartbeatDetails()));
    LeaseKeeper.Renewal renewal = leases.keep(attempt, claimed.claimSentAt());
    boolean held = false;
    try {
      Instant began = clock.instant();
      StatusEvent outcome;
      BatchOrProblem<P> batch = batch(bound, claim, claimed.transaction());
      if (batch.problem() != null) {
        outcome = attempt.failed(batch.problem());
      } else {
        try (var watch = timeouts.watch(attempt, claimed.timeouts(), claimed.claimedAt())) {
          outcome = execute(bound.handler(), attempt, batch.batch());
        }
      }
      meters.ran(claim.type(), outcome.eventName(), Duration.between(began, clock.instant()));
      if (attempt.isWithdrawn()) {
        finish(attempt, outcome); // logs why nothing is reported
        return;
      }
      // An attempt that ran for a while has its lease marked as waiting for its outcome before
      // the outcome is published, so a worker that dies right after publishing leaves no unmarked
      // lease that recovery would count against its capacity, or release and re-dispatch at once
      // (ADR 14); a quick one's lease is marked by the next beat, within a second (ADR 37). From
      // here the beat renews the lease until the outcome is applied, and the publish goes on
      // without the slot (ADR 39).
      renewal.markOutcomeComing();
      renewal.holdUntilApplied(settings.outcomeHold());
      held = true;
      publishOffTheSlot(attempt, outcome, claimed);
    } finally {
      // After SUCCEEDED or FAILED the status-tracker releases the lease; after anything
      // unforeseen the lease expires and the job runs again elsewhere.
      if (!held) {
        renewal.stop();
      }
    }
  }

  /**
   * Publishes the outcome without the slot waiting for its confirm, or on this thread when {@code
   * capacity} outcomes are in flight already or the attempt was withdrawn. Confirmed, it is
   * counted; given up, the lease is no longer renewed, so it expires and the job runs again
   * elsewhere.
   */
  private void publishOffTheSlot(Attempt<?> attempt, StatusEvent outcome, ClaimedWork claimed) {
    Runnable publish =
        () -> {
          if (!finish(attempt, outcome)) {
            leases.stopHolding(attempt.claim());
          }
        };
    if (attempt.isWithdrawn() || !inFlight.tryAcquire()) {
      publish.run(); // withdrawn (logs it), or as many outcomes in flight as slots: this one waits
      return;
    }
    statuses
        .send(outcome, claimed.trace())
        .whenComplete(
            (written, failed) -> {
              if (failed == null) {
                if (written) {
                  // the store applied it (ADR 56) and released the lease: nothing left to hold
                  leases.outcomeApplied(attempt.claim());
                }
                confirmed(attempt, outcome, claimed);
                inFlight.release();
              } else {
                retryOffTheSlot(attempt, outcome, publish, mdc(claimed), failed);
              }
            });
  }

  /**
   * The outcome's first try failed (on the status sender's thread, which must not wait): the tries
   * of {@link OutcomePublisher} go on on a thread of their own. A worker stopping meanwhile gives
   * the outcome up: its lease expires and the job runs again elsewhere.
   */
  private void retryOffTheSlot(
      Attempt<?> attempt,
      StatusEvent outcome,
      Runnable publish,
      Map<String, String> mdc,
      Throwable failed) {
    withMdc(
        mdc,
        () ->
            log.warn(
                "could not publish {} of {} (first try); trying again: {}",
                outcome.eventName(),
                attempt.claim(),
                StatusPublisher.asPublishException(outcome, failed).getMessage()));
    try {
      outcomes.execute(
          () -> {
            try {
              withMdc(mdc, publish);
            } finally {
              inFlight.release();
            }
          });
    } catch (RejectedExecutionException e) {
      inFlight.release();
      leases.stopHolding(attempt.claim());
      withMdc(
          mdc,
          () ->
              log.error(
                  "gave up publishing {} of {}: the worker is stopping; its lease expires within {}"
                      + " and the job runs again",
                  outcome.eventName(),
                  attempt.claim(),
                  settings.leaseTtl()));
    }
  }

  /**
   * The broker confirmed the outcome's first try: logged (with the attempt's MDC when the line is
   * written at all) and counted as {@link #finish} does.
   */
  private void confirmed(Attempt<?> attempt, StatusEvent outcome, ClaimedWork claimed) {
    if (OutcomePublisher.logsPublished(outcome)) {
      withMdc(mdc(claimed), () -> OutcomePublisher.published(attempt, outcome));
    }
    meters.outcomePublished(outcome.type(), outcome.eventName());
  }

  /**
   * The MDC {@link #run(ClaimedWork)} sets on the slot's thread, for a line written on another:
   * built only when one is (a copy per job cost about 1 % of a worker's CPU).
   */
  private Map<String, String> mdc(ClaimedWork claimed) {
    Map<String, String> mdc = new HashMap<>(claimOf(claimed).mdc());
    mdc.put(JobMdc.TRACE_ID, claimed.trace().traceId());
    return mdc;
  }

  private Claim claimOf(ClaimedWork claimed) {
    WorkMessage work = claimed.work();
    return new Claim(
        work.jobId(), work.type(), work.attempt(), claimed.fencingToken(), settings.workerId());
  }

  /** Runs {@code work} on this thread with the attempt's MDC, and clears it after. */
  private static void withMdc(Map<String, String> mdc, Runnable work) {
    MDC.setContextMap(mdc);
    try {
      work.run();
    } finally {
      MDC.clear();
    }
  }

  /** Publishes the outcome ({@link OutcomePublisher#finish}) and counts it once confirmed. */
  private boolean finish(Attempt<?> attempt, StatusEvent outcome) {
    boolean published = OutcomePublisher.finish(settings, attempt, outcome);
    if (published) {
      meters.outcomePublished(outcome.type(), outcome.eventName());
    }
    return published;
  }

  /**
   * Runs the handler and reads its outcome. An attempt the worker timed out ends as its timeout's
   * failure whatever the handler threw (most likely the interrupt's exception) or returned.
   */
  private <P> StatusEvent execute(JobHandler<P> handler, Attempt<P> attempt, Batch<P> batch) {
    running.add(attempt);
    attempt.attach(Thread.currentThread());
    Throwable thrown = null;
    try {
      if (handler instanceof BatchHandler<P> batchHandler) {
        batchHandler.handle(batch, attempt);
      } else {
        handler.handle(attempt);
      }
    } catch (Exception | Error e) {
      // An Error too: a handler's bug (a missing class, a stack overflow) must not kill the
      // consumer thread and leave the lease renewed forever; it is reported like any failure.
      thrown = e;
    } finally {
      attempt.detach(); // from here on, no time-out or cancel reaches the handler
      running.remove(attempt);
    }
    Optional<Failure> timedOut = attempt.timedOut();
    if (timedOut.isPresent()) {
      log.debug("handler of {} ended after it timed out", attempt.claim(), thrown);
      return attempt.failed(timedOut.get());
    }
    switch (thrown) {
      case null -> {
        return attempt.succeeded();
      }
      case RetryableJobException e -> log.debug("handler of {} threw", attempt.claim(), e);
      case PermanentJobException e -> log.debug("handler of {} threw", attempt.claim(), e);
      case Exception e ->
          // not a failure the handler declared: the stack trace is what its author needs
          log.warn("handler of {} threw {}", attempt.claim(), e.toString(), e);
      default -> log.error("handler of {} failed with {}", attempt.claim(), thrown, thrown);
    }
    return attempt.failed(Failure.of(thrown));
  }

  /** The batch an attempt runs, or why it cannot run: one of the two is null. */
  private record BatchOrProblem<P>(Batch<P> batch, Failure problem) {}

  /**
   * The attempt's batch (ADR 31): the claimed job, then the other jobs of its transaction, each
   * payload bound to the handler's type. A transaction with other jobs for a handler that is no
   * {@link BatchHandler}, or with a payload that does not bind, fails the attempt (and so every job
   * of it) without running the handler: running only the first would end the others SUCCEEDED
   * without anyone running them.
   */
  private static <P> BatchOrProblem<P> batch(
      Handlers.Bound<P> bound, Claim claim, ClaimResult.Transaction transaction) {
    List<Batch.Job<P>> jobs = new ArrayList<>();
    jobs.add(new Batch.Job<>(claim.jobId(), bound.payload()));
    if (transaction == null) {
      return new BatchOrProblem<>(new Batch<>(0, jobs), null);
    }
    JobHandler<P> handler = bound.handler();
    if (!transaction.members().isEmpty() && !(handler instanceof BatchHandler<P>)) {
      return new BatchOrProblem<>(
          null,
          new Failure(
              "job type "
                  + claim.type()
                  + " takes batches (shepherd.scheduler.batch-size."
                  + claim.type()
                  + "), but its handler "
                  + handler.getClass().getName()
                  + " is no BatchHandler",
              false));
    }
    for (ClaimResult.Transaction.Member member : transaction.members()) {
      JsonNode json;
      try {
        json = Json.mapper().readTree(member.payloadJson());
      } catch (JacksonException e) {
        json = null;
      }
      switch (PayloadBinding.bind(json, handler.payloadType())) {
        case PayloadBinding.Bound<P> b -> jobs.add(new Batch.Job<>(member.jobId(), b.payload()));
        case PayloadBinding.Unbound<P> u -> {
          return new BatchOrProblem<>(
              null,
              Failure.unboundPayload(
                  handler.payloadType(),
                  "job " + member.jobId() + " of the batch: " + u.problem()));
        }
      }
    }
    return new BatchOrProblem<>(new Batch<>(transaction.id(), jobs), null);
  }

  /** The details an earlier attempt's heartbeat left, read from the claim's JSON; or null. */
  private static JsonNode heartbeatDetails(String json) {
    if (json == null || json.isBlank()) {
      return null;
    }
    try {
      return Json.mapper().readTree(json);
    } catch (JacksonException e) {
      // the status-tracker stored what a worker sent; the job itself can still run
      log.warn("ignoring unreadable heartbeat details of an earlier attempt: {}", e.getMessage());
      return null;
    }
  }

  private <P> Attempt<P> attempt(
      Claim claim, P payload, ClaimedWork claimed, JsonNode lastHeartbeatDetails) {
    var attempt =
        new Attempt<>(
            claim,
            payload,
            clock,
            event -> statuses.publish(event, claimed.trace()),
            (phase, took) -> meters.phase(claim.type(), phase, took),
            lastHeartbeatDetails);
    if (claimed.timeouts() != null && claimed.timeouts().startToClose() != null) {
      attempt.deadline(claimed.claimedAt().plus(claimed.timeouts().startToClose()));
    }
    return attempt;
  }
}
