package dev.shepherd.model;

import com.fasterxml.jackson.annotation.JsonInclude;

/**
 * An order to one worker about one attempt it runs, published to the control exchange with the
 * routing key {@code worker.<workerId>}. The job record has already changed when it is sent; the
 * message only makes the worker stop sooner than its next lease renewal would tell it.
 *
 * @param kind what happened to the attempt
 * @param jobId the job
 * @param fencingToken the token of the attempt meant: a worker ignores an order for another one
 * @param by who cancelled, or the timeout that ended the attempt
 * @param reason why, as the job's history has it
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record WorkerControl(Kind kind, String jobId, long fencingToken, String by, String reason) {

  /** What happened to the attempt. */
  public enum Kind {
    /**
     * The job was cancelled: the handler sees {@code isCancelled()} at once and is interrupted
     * after the worker's cancel grace.
     */
    CANCEL,
    /** The attempt timed out and was ended: the handler is interrupted at once. */
    ABANDON
  }
}
