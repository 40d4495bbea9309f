package dev.shepherd.engine;

import dev.shepherd.model.JobState;
import dev.shepherd.model.MetricNames;
import io.micrometer.core.instrument.MeterRegistry;

/**
 * The one rule that counts a job as retried or dead ({@link MetricNames#JOBS_RETRIED}, {@link
 * MetricNames#JOBS_DEAD}, tagged with its type and pool) from the state a transition left it in:
 * RETRY_WAIT is a retry, DEAD is a death, any other state is neither. Every pass that ends an
 * attempt or a job (the status applier, the lease reaper, the timeout pass, the lost-worker pass,
 * the dispatcher) counts through it, so the dashboards' retried and dead rates mean the same
 * whichever process ended the job.
 *
 * <pre>{@code
 * outcomes.count(lease.newState(), lease.type(), lease.pool());
 * }</pre>
 */
public final class JobOutcomeMeters {

  private final MeterRegistry meters;

  public JobOutcomeMeters(MeterRegistry meters) {
    this.meters = meters;
  }

  /** Counts a job that a transition left in {@code newState}; a null type or pool tags "null". */
  public void count(JobState newState, String type, String pool) {
    switch (newState) {
      case RETRY_WAIT -> increment(MetricNames.JOBS_RETRIED, type, pool);
      case DEAD -> increment(MetricNames.JOBS_DEAD, type, pool);
      case null, default -> {}
    }
  }

  /** The same for a state as a store script answers it ({@code "RETRY_WAIT"}, {@code "DEAD"}). */
  public void count(String newState, String type, String pool) {
    count(newState == null ? null : JobState.valueOf(newState), type, pool);
  }

  /** Counts a job that ended DEAD. */
  public void dead(String type, String pool) {
    count(JobState.DEAD, type, pool);
  }

  private void increment(String name, String type, String pool) {
    meters
        .counter(
            name,
            MetricNames.TAG_TYPE,
            String.valueOf(type),
            MetricNames.TAG_POOL,
            String.valueOf(pool))
        .increment();
  }
}
