package dev.shepherd.distribution;

/**
 * What became of one attempt of a {@link Distributor#runAll} batch: the same three answers a single
 * {@link Distributor#run} gives, as values, so one refused attempt does not hide the others.
 */
public sealed interface RunResult {

  /** The task started; what {@link Distributor#run} returns. */
  record Ran(Started started) implements RunResult {}

  /**
   * The backend refused the task for good, as a {@link PermanentDistributorException}: the attempt
   * is rejected with this reason.
   */
  record Refused(String reason) implements RunResult {}

  /**
   * The run may succeed later, as a {@link TransientDistributorException}: the caller runs the
   * attempt again (the run is idempotent per attempt).
   */
  record NotYet(String reason) implements RunResult {}

  /** The result of one {@link Distributor#run} call, failures as values. */
  static RunResult of(Distributor distributor, AttemptRequest attempt) {
    try {
      return new Ran(distributor.run(attempt));
    } catch (PermanentDistributorException e) {
      return new Refused(e.getMessage());
    } catch (TransientDistributorException e) {
      return new NotYet(e.getMessage());
    }
  }
}
