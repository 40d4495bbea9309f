package dev.shepherd.worker;

import dev.shepherd.model.JobTimeouts;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/**
 * The deadlines of one running attempt's timeouts (ADR 18), as its worker sees them: {@code
 * startToClose} from the claim; {@code stall} from the later of the claim and the handler's last
 * phase start, phase end, progress or heartbeat; each limited phase from its start. Pure and not
 * thread-safe: {@link LocalTimeouts} owns one per attempt, calls it under a lock and keeps the
 * timer.
 *
 * <p>The server keeps the same deadlines from what it <em>applied</em>; the worker keeps them from
 * what the handler did, so it is never later than the server and names the failure itself.
 */
final class AttemptDeadlines {

  /**
   * One timeout's deadline.
   *
   * @param timeout {@code startToClose}, {@code stall} or {@code phase:<name>}, as in the error
   * @param at when it passes
   * @param limit the timeout's length, for the log line
   */
  record Deadline(String timeout, Instant at, Duration limit) {

    /** The metric label: {@code startToClose}, {@code stall} or {@code phase}. */
    String label() {
      return timeout.startsWith(PHASE) ? "phase" : timeout;
    }

    /** The attempt's outcome once it passed: a retryable failure named after the timeout. */
    Failure failure() {
      return Failure.timedOut(timeout);
    }
  }

  static final String START_TO_CLOSE = "startToClose";
  static final String STALL = "stall";
  static final String PHASE = "phase:";

  private final JobTimeouts timeouts;
  private final Instant claimedAt;
  private Instant lastActivity;

  /** Limited phases running now, by name, with their start. */
  private final Map<String, Instant> phases = new HashMap<>();

  AttemptDeadlines(JobTimeouts timeouts, Instant claimedAt) {
    this.timeouts = timeouts;
    this.claimedAt = claimedAt;
    this.lastActivity = claimedAt;
  }

  /** True when the attempt has a timeout the worker keeps (scheduleToStart is not one). */
  static boolean bounds(JobTimeouts timeouts) {
    return timeouts.startToClose() != null
        || timeouts.stall() != null
        || !timeouts.phases().isEmpty();
  }

  /** The handler reported progress or a heartbeat: the stall deadline moves. */
  void reported(Instant at) {
    if (at.isAfter(lastActivity)) {
      lastActivity = at;
    }
  }

  /** A phase started: the stall deadline moves, and the phase's limit, if any, starts. */
  void phaseStarted(String name, Instant at) {
    reported(at);
    if (timeouts.phases().containsKey(name)) {
      phases.put(name, at);
    }
  }

  /** A phase ended: the stall deadline moves, and the phase's limit no longer applies. */
  void phaseEnded(String name, Instant at) {
    reported(at);
    phases.remove(name);
  }

  /** The earliest deadline; empty when the attempt has no timeout the worker keeps. */
  Optional<Deadline> next() {
    Deadline earliest = null;
    if (timeouts.startToClose() != null) {
      earliest =
          earlier(
              earliest,
              new Deadline(
                  START_TO_CLOSE,
                  claimedAt.plus(timeouts.startToClose()),
                  timeouts.startToClose()));
    }
    if (timeouts.stall() != null) {
      earliest =
          earlier(
              earliest, new Deadline(STALL, lastActivity.plus(timeouts.stall()), timeouts.stall()));
    }
    for (var phase : phases.entrySet()) {
      Duration limit = timeouts.phases().get(phase.getKey());
      earliest =
          earlier(
              earliest, new Deadline(PHASE + phase.getKey(), phase.getValue().plus(limit), limit));
    }
    return Optional.ofNullable(earliest);
  }

  /** The earliest deadline if it has passed at {@code now}. */
  Optional<Deadline> passed(Instant now) {
    return next().filter(d -> !now.isBefore(d.at()));
  }

  private static Deadline earlier(Deadline current, Deadline candidate) {
    return current == null || candidate.at().isBefore(current.at()) ? candidate : current;
  }
}
