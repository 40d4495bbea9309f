package dev.shepherd.store;

import dev.shepherd.model.JobTimeouts;
import java.util.List;

/** The answer to a worker's claim. */
public sealed interface ClaimResult {

  /**
   * The worker owns the attempt; every later write must carry this token.
   *
   * @param timeouts the attempt's timeouts (startToClose, stall, phases), for the worker to enforce
   *     locally too ({@link JobTimeouts#NONE} when none)
   * @param heartbeatDetails the details of the last heartbeat an earlier attempt of the job sent
   *     ({@code JobContext.heartbeat}), as JSON, for a retry to resume from; null when none
   * @param transaction the jobs this attempt carries, for a job whose type takes batches (ADR 31);
   *     null for any other
   */
  record Claimed(
      long fencingToken, JobTimeouts timeouts, String heartbeatDetails, Transaction transaction)
      implements ClaimResult {

    public Claimed {
      timeouts = timeouts == null ? JobTimeouts.NONE : timeouts;
    }

    public Claimed(long fencingToken, JobTimeouts timeouts, String heartbeatDetails) {
      this(fencingToken, timeouts, heartbeatDetails, null);
    }

    /** A claim with no timeouts and no earlier heartbeat. */
    public Claimed(long fencingToken) {
      this(fencingToken, JobTimeouts.NONE, null);
    }
  }

  /**
   * One attempt of an ordering key's head that carries the key's next waiting jobs (ADR 31): they
   * run together and end with the head's outcome.
   *
   * @param id grows with each transaction of the key, and stays the same for every attempt of one,
   *     so a destination can drop a transaction it applied already
   * @param members the other jobs, in the key's order after the head, each with its payload as
   *     stored (JSON)
   */
  record Transaction(long id, List<Member> members) {

    public Transaction {
      members = List.copyOf(members);
    }

    /** One job a transaction carries besides its head. */
    public record Member(String jobId, String payloadJson) {}
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
