package dev.shepherd.store;

/**
 * What applying a worker's status event did.
 *
 * @param state the job's state after the call (null when the job does not exist)
 */
public record ReportResult(Outcome outcome, String state) {

  public enum Outcome {
    /** The event changed the job. */
    APPLIED,
    /** The event carried a fencing token that is no longer the job's: a rogue or late worker. */
    STALE,
    /** The sequence number was not above the last applied one: a duplicate or a late arrival. */
    DUPLICATE,
    /** The job already finished this attempt. */
    FINISHED,
    /** No such job. */
    MISSING
  }
}
