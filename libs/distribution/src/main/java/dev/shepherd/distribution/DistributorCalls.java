package dev.shepherd.distribution;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.function.Supplier;

/**
 * Every call Shepherd makes to a distributor goes through here: a {@link
 * TransientDistributorException} is retried with exponential backoff up to {@code maxCalls} calls
 * in all, a {@link PermanentDistributorException} (or any other exception) is rethrown at once.
 * Retrying a run is safe only because {@link Distributor#run} is idempotent per attempt.
 */
public final class DistributorCalls {

  /** Waits between two calls; tests pass one that records instead of sleeping. */
  @FunctionalInterface
  public interface Sleeper {
    void sleep(Duration duration) throws InterruptedException;

    Sleeper THREAD = d -> Thread.sleep(d);
  }

  /**
   * How long after a run a status that cannot find the task is still taken for a backend that has
   * not caught up (an eventually consistent list, a pod not yet visible) rather than a lost task.
   */
  public static final Duration DEFAULT_VISIBILITY_GRACE = Duration.ofSeconds(30);

  private final int maxCalls;
  private final Duration firstBackoff;
  private final Duration maxBackoff;
  private final Duration visibilityGrace;
  private final Sleeper sleeper;
  private final Clock clock;

  /**
   * @param maxCalls the most calls made for one operation, the first included (1: no retry)
   * @param firstBackoff the wait after the first transient failure, doubled after each next one
   * @param maxBackoff the longest wait between two calls
   * @param visibilityGrace see {@link #DEFAULT_VISIBILITY_GRACE}
   */
  public DistributorCalls(
      int maxCalls,
      Duration firstBackoff,
      Duration maxBackoff,
      Duration visibilityGrace,
      Sleeper sleeper,
      Clock clock) {
    if (maxCalls < 1) {
      throw new IllegalArgumentException("maxCalls must be at least 1, was " + maxCalls);
    }
    if (firstBackoff.isNegative() || maxBackoff.compareTo(firstBackoff) < 0) {
      throw new IllegalArgumentException(
          "backoff must be 0 <= first <= max, was " + firstBackoff + " and " + maxBackoff);
    }
    this.maxCalls = maxCalls;
    this.firstBackoff = firstBackoff;
    this.maxBackoff = maxBackoff;
    this.visibilityGrace = visibilityGrace;
    this.sleeper = sleeper;
    this.clock = clock;
  }

  /**
   * Runs {@code call}, retrying transient failures.
   *
   * @param what names the call in the exception when the retries run out ({@code "run of 07-ab.2"})
   * @throws TransientDistributorException when every one of {@code maxCalls} calls failed
   *     transiently; its cause is the last failure
   * @throws PermanentDistributorException at once, from the first call that throws it
   */
  public <T> T call(String what, Supplier<T> call) {
    Duration backoff = firstBackoff;
    for (int made = 1; ; made++) {
      try {
        return call.get();
      } catch (TransientDistributorException e) {
        if (made >= maxCalls) {
          throw new TransientDistributorException(
              what + " failed transiently " + made + " times, the last: " + e.getMessage(), e);
        }
      }
      try {
        sleeper.sleep(backoff);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new TransientDistributorException(what + " was interrupted between retries", e);
      }
      backoff =
          backoff.multipliedBy(2).compareTo(maxBackoff) > 0 ? maxBackoff : backoff.multipliedBy(2);
    }
  }

  /** {@link #call} for a call without an answer (cancel). */
  public void run(String what, Runnable call) {
    call(
        what,
        () -> {
          call.run();
          return null;
        });
  }

  /**
   * A task's status, retried like any call, where a permanent failure to answer means the task is
   * gone: {@link TaskStatus.Missing} with the failure as its reason, unless the task was started
   * less than the visibility grace ago, when it is {@link TaskStatus.Pending} (asked again later).
   *
   * @param startedAt when the task's run returned
   */
  public TaskStatus status(
      Distributor distributor, AttemptRequest attempt, TaskToken token, Instant startedAt) {
    try {
      return call(
          "status of " + attempt.jobId() + "." + attempt.attempt(),
          () -> distributor.status(attempt, token));
    } catch (PermanentDistributorException e) {
      if (clock.instant().isBefore(startedAt.plus(visibilityGrace))) {
        return new TaskStatus.Pending();
      }
      return new TaskStatus.Missing(e.getMessage());
    }
  }
}
