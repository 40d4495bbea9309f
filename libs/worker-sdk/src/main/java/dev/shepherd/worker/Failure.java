package dev.shepherd.worker;

/**
 * Why an attempt failed, and whether another attempt can help: the payload of a FAILED event. One
 * place decides how a handler's exception is read, so every worker classifies the same way.
 *
 * @param error what went wrong, for the job's history and the dead-job record
 * @param retryable true when the job should run again (while attempts remain)
 */
record Failure(String error, boolean retryable) {

  /** Long stack-trace-like messages are cut: the error is shown in lists and stored per job. */
  static final int MAX_ERROR_LENGTH = 2_000;

  Failure {
    error =
        error.length() > MAX_ERROR_LENGTH ? error.substring(0, MAX_ERROR_LENGTH) + "..." : error;
  }

  /**
   * Reads what a handler threw: {@link PermanentJobException} is permanent, {@link
   * RetryableJobException} and everything else retryable. A handler's own exceptions speak for
   * themselves (their message); others are named by their class too, since "null" or "Connection
   * reset" alone tells an operator little.
   */
  static Failure of(Throwable thrown) {
    return switch (thrown) {
      case PermanentJobException e -> new Failure(messageOf(e), false);
      case RetryableJobException e -> new Failure(messageOf(e), true);
      default ->
          new Failure(
              thrown.getMessage() == null
                  ? thrown.getClass().getName()
                  : thrown.getClass().getSimpleName() + ": " + thrown.getMessage(),
              true);
    };
  }

  /**
   * No worker of the pool took the job's type within the queue's delivery limit (each gave the
   * delivery back), and this one, with the last delivery, has no handler either: another attempt on
   * the same pool cannot help.
   */
  static Failure noHandler(String type, String workerId) {
    return new Failure(
        "no handler for job type "
            + type
            + ": no worker of the pool took it within the queue's delivery limit (the last"
            + " delivery went to worker "
            + workerId
            + ")",
        false);
  }

  /** The payload does not fit the handler's payload type: the same payload never will. */
  static Failure unboundPayload(Class<?> payloadType, String problem) {
    return new Failure(
        "payload does not bind to " + payloadType.getSimpleName() + ": " + problem, false);
  }

  /**
   * The worker stopped the attempt past one of its timeouts ({@code startToClose}, {@code stall} or
   * {@code phase:<name>}): named as the recovery service names it, so the job's {@code lastError}
   * reads the same whichever of the two was first. Retryable: another attempt may be quicker.
   */
  static Failure timedOut(String timeout) {
    return new Failure("timeout:" + timeout, true);
  }

  private static String messageOf(Throwable e) {
    return e.getMessage() == null ? e.getClass().getName() : e.getMessage();
  }
}
