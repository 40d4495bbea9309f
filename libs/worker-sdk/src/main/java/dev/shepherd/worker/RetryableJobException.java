package dev.shepherd.worker;

/**
 * A transient failure: the job runs again, after an exponential backoff with full jitter, while
 * attempts remain.
 *
 * <pre>{@code
 * throw new RetryableJobException("upstream answered 503");
 * }</pre>
 */
public class RetryableJobException extends Exception {

  public RetryableJobException(String message) {
    super(message);
  }

  public RetryableJobException(String message, Throwable cause) {
    super(message, cause);
  }
}
