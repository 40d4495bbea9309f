package dev.shepherd.store;

/** The answer to a worker's claim. */
public sealed interface ClaimResult {

  /** The worker owns the attempt; every later write must carry this token. */
  record Claimed(long fencingToken) implements ClaimResult {}

  /**
   * The delivery was a duplicate or late: the attempt is held by someone else, already finished,
   * superseded by a newer attempt, or the job does not exist. Ack it and do not run it.
   */
  record Refused(Reason reason, String state) implements ClaimResult {}

  enum Reason {
    MISSING,
    STALE_ATTEMPT,
    NOT_CLAIMABLE,
    HELD
  }
}
