package dev.shepherd.worker;

/**
 * A transient failure: the attempt ends FAILED (retryable) and the job runs again, after an
 * exponential backoff with jitter, while attempts remain. Any exception other than {@link
 * PermanentJobException} is read the same way; throwing this one says so on purpose.
 *
 * <pre>{@code
 * if (response.statusCode() == 503) {
 *   throw new RetryableJobException("bug tracker answered 503");
 * }
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
