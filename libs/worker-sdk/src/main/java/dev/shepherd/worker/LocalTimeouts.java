package dev.shepherd.worker;

import dev.shepherd.model.JobTimeouts;
import dev.shepherd.model.MetricNames;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * Keeps each running attempt's timeouts on the worker (issue 13): the recovery service ends an
 * attempt past its {@code startToClose}, {@code stall} or phase limit from what Redis applied (ADR
 * 18), and catches a frozen or lying worker; the worker, keeping the same deadlines from what its
 * handler did ({@link AttemptDeadlines}), stops the handler sooner and reports the failure itself.
 *
 * <p>Past a deadline the handler is interrupted at once, as an ABANDON does, and {@link
 * JobContext#isCancelled()} turns true; but unlike an abandoned attempt this one still reports its
 * outcome: FAILED, retryable, {@code timeout:<name>}, whatever the handler then throws or returns,
 * through the usual fenced path (if the server timed the attempt out first, the report is refused,
 * and its ABANDON order cancels the attempt so nothing is published). Counted once per attempt in
 * {@link MetricNames#WORKER_ATTEMPTS_TIMED_OUT}.
 *
 * <p>One thread keeps every attempt's deadline. Each report moves the attempt's deadlines; the
 * timer is moved only when the earliest comes sooner (a limited phase started). A report that puts
 * it off (progress, a heartbeat) leaves the timer where it is: when it fires it finds the deadline
 * moved and waits again for the new one, so a handler that reports often costs no timer work.
 */
final class LocalTimeouts implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(LocalTimeouts.class);

  private final Clock clock;
  private final WorkerMeters meters;
  private final ScheduledExecutorService timer;

  LocalTimeouts(Clock clock, WorkerMeters meters) {
    this.clock = clock;
    this.meters = meters;
    this.timer = Timers.daemon("shepherd-timeouts");
  }

  /**
   * Starts keeping {@code attempt}'s timeouts and has it report its phases, progress and heartbeats
   * here; {@link Watch#close()} stops. An attempt without timeouts gets a watch that does nothing.
   *
   * @param claimedAt when the claim was sent: startToClose and the first stall run from here
   */
  Watch watch(Attempt<?> attempt, JobTimeouts timeouts, Instant claimedAt) {
    if (!AttemptDeadlines.bounds(timeouts)) {
      return new Watch(attempt, null);
    }
    var watch = new Watch(attempt, new AttemptDeadlines(timeouts, claimedAt));
    attempt.reportActivityTo(watch);
    watch.moved();
    return watch;
  }

  /** Stops the timer; called when the worker stops, after it cancelled what still ran. */
  @Override
  public void close() {
    timer.shutdownNow();
  }

  /** One attempt's deadlines and the timer set for the earliest. */
  final class Watch implements Attempt.Activity, AutoCloseable {

    private final Attempt<?> attempt;
    private final AttemptDeadlines deadlines; // guarded by this; null: nothing to keep
    private ScheduledFuture<?> check; // guarded by this
    private Instant checkAt; // guarded by this: when check runs
    private boolean closed; // guarded by this

    private Watch(Attempt<?> attempt, AttemptDeadlines deadlines) {
      this.attempt = attempt;
      this.deadlines = deadlines;
      this.closed = deadlines == null;
    }

    @Override
    public synchronized void phaseStarted(String name, Instant at) {
      if (!closed) {
        deadlines.phaseStarted(name, at);
        moved(); // a limited phase may bring the earliest deadline forward
      }
    }

    @Override
    public synchronized void phaseEnded(String name, Instant at) {
      if (!closed) {
        deadlines.phaseEnded(name, at); // only puts deadlines off: the check finds them moved
      }
    }

    @Override
    public synchronized void reported(Instant at) {
      if (!closed) {
        deadlines.reported(at); // only puts the stall off: the check finds it moved
      }
    }

    /** The handler returned: no deadline of this attempt matters any more. */
    @Override
    public synchronized void close() {
      closed = true;
      if (check != null) {
        check.cancel(false);
        check = null;
      }
    }

    /** Sets the timer for the earliest deadline, unless it is already set for that or sooner. */
    private synchronized void moved() {
      deadlines
          .next()
          .filter(d -> check == null || d.at().isBefore(checkAt))
          .ifPresent(d -> schedule(d.at()));
    }

    private void schedule(Instant at) {
      if (check != null) {
        check.cancel(false);
      }
      long delay = Math.max(0, Duration.between(clock.instant(), at).toNanos());
      try {
        check = timer.schedule(this::check, delay, TimeUnit.NANOSECONDS);
        checkAt = at;
      } catch (RejectedExecutionException e) {
        check = null; // the worker is stopping: it cancels what still runs itself
      }
    }

    /** On the timer's thread: times the attempt out if its earliest deadline has passed. */
    private void check() {
      AttemptDeadlines.Deadline due;
      synchronized (this) {
        if (closed) {
          return;
        }
        check = null;
        var passed = deadlines.passed(clock.instant());
        if (passed.isEmpty()) {
          moved(); // a report put it off: wait for the new deadline
          return;
        }
        due = passed.get();
        closed = true; // one time-out per attempt
      }
      MDC.setContextMap(attempt.claim().mdc());
      try {
        String because = describe(due);
        if (!attempt.timeOut(due.failure(), because)) {
          return; // cancelled, abandoned or finished first: that outcome stands
        }
        meters.timedOut(attempt.claim().type(), due.label());
        log.info(
            "{} {}; interrupting its handler and reporting the failure", attempt.claim(), because);
      } finally {
        MDC.clear();
      }
    }
  }

  /** "timed out: timeout:stall (no phase, progress or heartbeat for PT1S)", and so on. */
  private static String describe(AttemptDeadlines.Deadline due) {
    String what =
        switch (due.label()) {
          case AttemptDeadlines.START_TO_CLOSE -> "ran for " + due.limit() + " since its claim";
          case AttemptDeadlines.STALL -> "no phase, progress or heartbeat for " + due.limit();
          default ->
              "phase "
                  + due.timeout().substring(AttemptDeadlines.PHASE.length())
                  + " ran for "
                  + due.limit();
        };
    return "timed out: " + due.failure().error() + " (" + what + ")";
  }
}
