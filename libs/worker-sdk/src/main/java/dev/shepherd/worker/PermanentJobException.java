package dev.shepherd.worker;

/**
 * A failure retrying cannot fix (bad input, a poison payload): the attempt ends FAILED (not
 * retryable) and the job goes to DEAD at once, with this message as its reason.
 *
 * <pre>{@code
 * if (!isValidHost(site)) {
 *   throw new PermanentJobException("site is not a valid host name: " + site);
 * }
 * }</pre>
 */
public class PermanentJobException extends Exception {

  public PermanentJobException(String message) {
    super(message);
  }

  public PermanentJobException(String message, Throwable cause) {
    super(message, cause);
  }
}
