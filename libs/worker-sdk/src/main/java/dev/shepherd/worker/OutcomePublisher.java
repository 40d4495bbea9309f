package dev.shepherd.worker;

import dev.shepherd.messaging.PublishException;
import dev.shepherd.model.StatusEvent;
import java.time.Duration;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Publishes an attempt's outcome (SUCCEEDED or FAILED), retrying a broker hiccup with doubling
 * backoff while the caller keeps renewing the lease. The same event, with the same sequence number,
 * is sent each time, so a retry that races a late confirm is a harmless duplicate. If every try
 * fails, the caller stops renewing and the lease expires: the job runs again elsewhere, which is
 * what at-least-once means when an outcome cannot be recorded.
 */
final class OutcomePublisher {

  /** Waits between tries; a test passes one that does not sleep. */
  @FunctionalInterface
  interface Pause {
    void pause(Duration duration) throws InterruptedException;
  }

  private static final Logger log = LoggerFactory.getLogger(OutcomePublisher.class);

  private final Consumer<StatusEvent> publisher;
  private final int tries;
  private final Duration firstBackoff;
  private final Duration maxBackoff;
  private final Pause pause;

  OutcomePublisher(
      Consumer<StatusEvent> publisher,
      int tries,
      Duration firstBackoff,
      Duration maxBackoff,
      Pause pause) {
    if (tries < 1) {
      throw new IllegalArgumentException("tries must be >= 1, was " + tries);
    }
    this.publisher = publisher;
    this.tries = tries;
    this.firstBackoff = firstBackoff;
    this.maxBackoff = maxBackoff;
    this.pause = pause;
  }

  /**
   * The tries and backoffs of {@code settings} ({@link WorkerSettings#outcomePublishTries()}; by
   * default twenty tries over about a minute while the lease is renewed, long enough for a broker
   * to restart or fail over, so the work already done is not thrown away).
   */
  static OutcomePublisher of(WorkerSettings settings, Consumer<StatusEvent> publisher) {
    return new OutcomePublisher(
        publisher,
        settings.outcomePublishTries(),
        settings.outcomePublishBackoff(),
        settings.outcomePublishMaxBackoff(),
        Thread::sleep);
  }

  /**
   * Publishes an attempt's outcome with the tries and backoffs of {@code settings}, unless the
   * attempt was withdrawn (cancelled, abandoned, its lease lost) before or meanwhile, and logs what
   * became of it.
   *
   * @return true once the broker confirmed the outcome
   */
  static boolean finish(WorkerSettings settings, Attempt<?> attempt, StatusEvent outcome) {
    if (attempt.isWithdrawn()) {
      log.info(
          "{} ended after {}; its outcome is not reported",
          attempt.claim(),
          attempt.cancelledBecause());
      return false;
    }
    boolean published =
        OutcomePublisher.of(settings, attempt::publishOutcome)
            .publish(outcome, () -> !attempt.isWithdrawn());
    if (published) {
      published(attempt, outcome);
    } else if (attempt.isWithdrawn()) {
      log.info(
          "{} was cancelled while reporting ({}); its outcome is not reported",
          attempt.claim(),
          attempt.cancelledBecause());
    } else {
      log.error(
          "gave up publishing {} of {}; its lease expires within {} and the job runs again",
          outcome.eventName(),
          attempt.claim(),
          settings.leaseTtl());
    }
    return published;
  }

  /** Whether {@link #published} writes a line for this outcome (its level is enabled). */
  static boolean logsPublished(StatusEvent outcome) {
    return outcome instanceof StatusEvent.Failed ? log.isInfoEnabled() : log.isDebugEnabled();
  }

  /** Logs an outcome the broker confirmed. */
  static void published(Attempt<?> attempt, StatusEvent outcome) {
    // the happy path logs nothing at INFO (a line per job cost 5 % of a worker's CPU); a failure
    // is worth a line
    if (outcome instanceof StatusEvent.Failed) {
      log.info("finished {}: {}", attempt.claim(), describe(outcome));
    } else {
      log.debug("finished {}: {}", attempt.claim(), describe(outcome));
    }
  }

  private static String describe(StatusEvent outcome) {
    return switch (outcome) {
      case StatusEvent.Failed f ->
          "FAILED (" + (f.retryable() ? "retryable" : "permanent") + "): " + f.error();
      default -> outcome.eventName();
    };
  }

  /**
   * @param stillOwned false once the lease is lost: a later try would only be refused as stale
   * @return true once the broker confirmed the outcome; false when the publisher gave up
   */
  boolean publish(StatusEvent outcome, BooleanSupplier stillOwned) {
    Duration backoff = firstBackoff;
    for (int attempt = 1; attempt <= tries; attempt++) {
      if (!stillOwned.getAsBoolean()) {
        return false;
      }
      try {
        publisher.accept(outcome);
        return true;
      } catch (PublishException e) {
        log.warn(
            "could not publish {} of job {} (try {} of {}): {}",
            outcome.eventName(),
            outcome.jobId(),
            attempt,
            tries,
            e.getMessage());
      }
      if (attempt < tries) {
        try {
          pause.pause(backoff);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return false;
        }
        backoff =
            backoff.multipliedBy(2).compareTo(maxBackoff) > 0
                ? maxBackoff
                : backoff.multipliedBy(2);
      }
    }
    return false;
  }
}
