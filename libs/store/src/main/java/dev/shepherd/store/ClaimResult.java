package dev.shepherd.store;

import dev.shepherd.model.JobTimeouts;

/** The answer to a worker's claim. */
public sealed interface ClaimResult {

  /**
   * The worker owns the attempt; every later write must carry this token.
   *
   * @param timeouts the attempt's timeouts (startToClose, stall, phases), for the worker to enforce
   *     locally too ({@link JobTimeouts#NONE} when none)
   * @param heartbeatDetails the details of the last heartbeat an earlier attempt of the job sent
   *     ({@code JobContext.heartbeat}), as JSON, for a retry to resume from; null when none
   */
  record Claimed(long fencingToken, JobTimeouts timeouts, String heartbeatDetails)
      implements ClaimResult {

    public Claimed {
      timeouts = timeouts == null ? JobTimeouts.NONE : timeouts;
    }

    /** A claim with no timeouts and no earlier heartbeat. */
    public Claimed(long fencingToken) {
      this(fencingToken, JobTimeouts.NONE, null);
    }
  }

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
