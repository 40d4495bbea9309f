package dev.shepherd.model;

/**
 * What can happen to a job. Each event names its cause, so the history of a job reads as a story
 * ("LEASE_EXPIRED" rather than "RUNNING to RETRY_WAIT").
 */
public enum JobEvent {
  /** Accepted with a {@code notBefore} in the future: waits in the due set. */
  SCHEDULE,
  /** Published to the work exchange and confirmed by the broker. */
  DISPATCH,
  /** A worker took the lease for the current attempt. */
  CLAIM,
  /** The attempt holding the current fencing token finished well. */
  SUCCEED,
  /** The attempt failed with a retryable error and attempts remain. */
  FAIL_RETRYABLE,
  /** The attempt failed with a permanent error (poison): no retry. */
  FAIL_PERMANENT,
  /** The lease ran out (worker died, hung or was abandoned) and attempts remain. */
  LEASE_EXPIRED,
  /** A retryable failure or an expired lease, but the last attempt is used up. */
  ATTEMPTS_EXHAUSTED,
  /**
   * No worker pool takes the job's type any more (the scheduler knows no pool for it, or the broker
   * returned its work message as unroutable): publishing it again cannot help.
   */
  UNROUTABLE,
  /** An operator put a dead job back for a new attempt. */
  REDRIVE,
  /** An operator or producer cancelled the job. */
  CANCEL
}
