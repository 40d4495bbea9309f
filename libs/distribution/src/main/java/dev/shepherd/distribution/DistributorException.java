package dev.shepherd.distribution;

/**
 * A distributor call that failed, split by what Shepherd should do next: a {@link
 * TransientDistributorException} is retried ({@link DistributorCalls}), a {@link
 * PermanentDistributorException} is not (a run it ends rejects the attempt with its reason).
 */
public abstract sealed class DistributorException extends RuntimeException
    permits TransientDistributorException, PermanentDistributorException {

  DistributorException(String message, Throwable cause) {
    super(message, cause);
  }
}
