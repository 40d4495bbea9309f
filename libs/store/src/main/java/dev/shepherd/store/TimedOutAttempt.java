package dev.shepherd.store;

import dev.shepherd.model.JobState;

/**
 * An attempt the timeout pass ended (ADR 18), and where its job went.
 *
 * @param newState RETRY_WAIT, or DEAD when it was the last attempt; for {@link
 *     Timeout#SCHEDULE_TO_START}, DEAD or QUEUED (published again), as the job type says
 * @param timeout the timeout it passed
 * @param fencingToken the token of the attempt that timed out, so its worker can be told which
 * @param phase the phase whose own limit it passed ({@link Timeout#PHASE}); null otherwise
 */
public record TimedOutAttempt(
    String jobId,
    String workerId,
    int attempt,
    JobState newState,
    String type,
    String pool,
    Timeout timeout,
    long fencingToken,
    String phase) {

  /**
   * Which timeout, as the history and the worker are told: {@code startToClose}, {@code stall} or
   * {@code phase:<name>}.
   */
  public String which() {
    return timeout == Timeout.PHASE ? "phase:" + phase : timeout.label();
  }

  /** The reason on the job's history and dead-job record, such as {@code timeout:phase:render}. */
  public String reason() {
    return "timeout:" + which();
  }

  /** The timeouts the recovery service enforces, each with the name the scripts use. */
  public enum Timeout {
    START_TO_CLOSE("startToClose"),
    STALL("stall"),
    /** A phase ran longer than its own limit; the metric's label, without the phase's name. */
    PHASE("phase"),
    /** A job waited QUEUED longer than its limit (no attempt ran: no worker, no token). */
    SCHEDULE_TO_START("scheduleToStart");

    private final String label;

    Timeout(String label) {
      this.label = label;
    }

    /** The name in configuration, submissions and metrics: {@code startToClose}, {@code stall}. */
    public String label() {
      return label;
    }

    /**
     * The reason on the job's history and dead-job record, such as {@code timeout:stall}; for a
     * phase, {@link TimedOutAttempt#reason()} names the phase.
     */
    public String reason() {
      return "timeout:" + label;
    }

    static Timeout ofLabel(String label) {
      if (label.startsWith("phase:")) {
        return PHASE;
      }
      for (Timeout t : values()) {
        if (t.label.equals(label)) {
          return t;
        }
      }
      throw new IllegalArgumentException("unknown timeout " + label);
    }
  }
}
