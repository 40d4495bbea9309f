package dev.shepherd.distribution;

/**
 * A call that will fail the same way however often it is made: the backend refused the request (a
 * 4xx, an invalid manifest, a forbidden namespace). The message is the reason recorded on the
 * attempt.
 */
public non-sealed class PermanentDistributorException extends DistributorException {

  public PermanentDistributorException(String message) {
    super(message, null);
  }

  public PermanentDistributorException(String message, Throwable cause) {
    super(message, cause);
  }
}
