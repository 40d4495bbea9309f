package dev.shepherd.model;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.List;

/**
 * An order to one worker about one attempt it runs, published to the control exchange with the
 * routing key {@code worker.<workerId>}. For CANCEL and ABANDON the job record has already changed
 * when it is sent; the message only makes the worker stop sooner than its next lease renewal would
 * tell it.
 *
 * @param kind what happened to the attempt
 * @param jobId the job
 * @param fencingToken the token of the attempt meant: a worker ignores an order for another one
 * @param by who cancelled, or the timeout that ended the attempt
 * @param reason why, as the job's history has it
 * @param events for {@link Kind#NOTIFY}: what the attempt's backend reported, already checked
 *     (signature, attempt, claim) by the scheduler that received it; null for the other kinds
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record WorkerControl(
    Kind kind,
    String jobId,
    long fencingToken,
    String by,
    String reason,
    List<StatusEvent> events) {

  /** An order without events: CANCEL or ABANDON. */
  public WorkerControl(Kind kind, String jobId, long fencingToken, String by, String reason) {
    this(kind, jobId, fencingToken, by, reason, null);
  }

  /** The events an attempt's backend reported, for the worker that holds the attempt (ADR 45). */
  public static WorkerControl notify(String jobId, long fencingToken, List<StatusEvent> events) {
    return new WorkerControl(Kind.NOTIFY, jobId, fencingToken, null, null, List.copyOf(events));
  }

  /** What happened to the attempt. */
  public enum Kind {
    /**
     * The job was cancelled: the handler sees {@code isCancelled()} at once and is interrupted
     * after the worker's cancel grace.
     */
    CANCEL,
    /** The attempt timed out and was ended: the handler is interrupted at once. */
    ABANDON,
    /**
     * The backend that runs the attempt for the worker (a distributor's task, ADR 45) reported
     * phases, progress or its outcome; the worker's handler for the attempt takes them. The job
     * record has not changed: only the worker's reports change it.
     */
    NOTIFY
  }
}
