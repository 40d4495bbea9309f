package dev.shepherd.worker;

/**
 * A failure retrying cannot fix (bad input, a poison payload): the job goes to DEAD at once with
 * this message as its reason.
 *
 * <pre>{@code
 * throw new PermanentJobException("site name is not a valid host: " + site);
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
