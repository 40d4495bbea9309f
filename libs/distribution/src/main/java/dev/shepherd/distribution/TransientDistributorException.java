package dev.shepherd.distribution;

/** A call that may succeed if made again: a timeout, a refused connection, a 5xx, a throttle. */
public final class TransientDistributorException extends DistributorException {

  public TransientDistributorException(String message) {
    super(message, null);
  }

  public TransientDistributorException(String message, Throwable cause) {
    super(message, cause);
  }
}
