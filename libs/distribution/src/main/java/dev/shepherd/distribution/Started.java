package dev.shepherd.distribution;

import java.time.Duration;

/**
 * A task a distributor started for one attempt, and the limits the task itself asks for. Shepherd
 * enforces them as the attempt's timeouts, each named by what it bounds: the task must start within
 * {@code timeToStart} of the run, run for at most {@code timeToRun} once started, and report its
 * end within {@code timeToStop} of being told to stop. A null limit means the distributor asks for
 * none and the job type's own timeouts apply.
 */
public record Started(
    TaskToken token, Duration timeToStart, Duration timeToRun, Duration timeToStop) {

  public Started {
    if (token == null) {
      throw new IllegalArgumentException("a started task needs its token");
    }
    requirePositive("timeToStart", timeToStart);
    requirePositive("timeToRun", timeToRun);
    requirePositive("timeToStop", timeToStop);
  }

  /** A task that asks for no limits of its own. */
  public static Started withoutLimits(TaskToken token) {
    return new Started(token, null, null, null);
  }

  private static void requirePositive(String name, Duration value) {
    if (value != null && !value.isPositive()) {
      throw new IllegalArgumentException(name + " must be a positive duration, was " + value);
    }
  }
}
