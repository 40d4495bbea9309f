package dev.shepherd.store;

import dev.shepherd.model.JobState;

/**
 * What a cancel did.
 *
 * @param outcome whether the job is CANCELLED now
 * @param previous for {@link Outcome#CANCELLED}, the state the job left; for {@link
 *     Outcome#FINISHED}, the terminal state it keeps; null for {@link Outcome#MISSING}
 * @param workerId the worker that ran the job, when it was RUNNING; null otherwise
 * @param fencingToken the token of the attempt that ran, when it was RUNNING; 0 otherwise
 * @param type the job's type (null when missing)
 */
public record CancelResult(
    Outcome outcome, JobState previous, String workerId, long fencingToken, String type) {

  public enum Outcome {
    /** The job is CANCELLED now, by this call. */
    CANCELLED,
    /** The job had already reached a terminal state (SUCCEEDED, DEAD or CANCELLED). */
    FINISHED,
    /** No such job (never submitted, or past its retention). */
    MISSING
  }

  /** True when the job was running and its worker should be told to stop. */
  public boolean wasRunning() {
    return outcome == Outcome.CANCELLED && previous == JobState.RUNNING && workerId != null;
  }
}
