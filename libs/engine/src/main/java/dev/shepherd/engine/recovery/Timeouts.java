package dev.shepherd.engine.recovery;

import dev.shepherd.engine.JobOutcomeMeters;
import dev.shepherd.engine.RedisStall;
import dev.shepherd.engine.cancel.WorkerOrders;
import dev.shepherd.model.JobMdc;
import dev.shepherd.model.MetricNames;
import dev.shepherd.model.RetryPolicy;
import dev.shepherd.model.WorkerControl;
import dev.shepherd.store.LeaseRecovery;
import dev.shepherd.store.TimedOutAttempt;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.List;
import java.util.Map;
import java.util.random.RandomGenerator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * Ends running attempts that passed their startToClose timeout (ran too long) or their stall
 * timeout (reported no phase or progress for too long), from every partition's set of timeout
 * deadlines (ADR 18). Enforced here, not in the worker, so a frozen or lying worker is caught too:
 * the attempt ends as a retryable failure naming the timeout, and its lease goes. Its worker is
 * told at once ({@link WorkerControl.Kind#ABANDON} through the control exchange), and its next
 * renewal is refused in any case; either interrupts the handler (ADR 16). Several recovery
 * instances may run it at once: each partition's batch is one atomic script.
 */
public final class Timeouts {

  private static final Logger log = LoggerFactory.getLogger(Timeouts.class);

  private final LeaseRecovery recovery;
  private final RetryPolicy retryPolicy;
  private final RandomGenerator random;
  private final int batchSize;
  private final MeterRegistry meters;
  private final JobOutcomeMeters outcomes;
  private final WorkerOrders orders;

  /**
   * @param orders tells a timed-out attempt's worker to stop; null leaves it to the worker's next
   *     lease renewal
   */
  public Timeouts(
      LeaseRecovery recovery,
      RetryPolicy retryPolicy,
      RandomGenerator random,
      int batchSize,
      MeterRegistry meters,
      WorkerOrders orders) {
    this.orders = orders;
    this.recovery = recovery;
    this.retryPolicy = retryPolicy;
    this.random = random;
    this.batchSize = batchSize;
    this.meters = meters;
    this.outcomes = new JobOutcomeMeters(meters);
  }

  /**
   * One pass over every partition; returns how many attempts were ended. As the reaper's ({@link
   * LeaseReaper#reapOnce}): the first partition's call alone, ending the pass when Redis was slow
   * to answer it, then the other partitions' calls together (ADR 55).
   */
  public int timeOutOnce() {
    // The backoff of a first retry: a batch mixes attempts, and a hung attempt says nothing about
    // how loaded the job's downstream is.
    long began = System.nanoTime();
    int[] total = {ended(recovery.timeOutAttempts(0, batchSize, retryPolicy.backoff(1, random)))};
    RedisStall.endPassIfSlow(began, "timing out the attempts of partition 0");
    began = System.nanoTime();
    recovery.timeOutAttempts(
        1, batchSize, () -> retryPolicy.backoff(1, random), ended -> total[0] += ended(ended));
    RedisStall.endPassIfSlow(began, "timing out the attempts of the other partitions");
    return total[0];
  }

  private int ended(List<TimedOutAttempt> ended) {
    ended.forEach(this::record);
    if (orders != null) {
      ended.stream().filter(a -> a.workerId() != null).forEach(this::tellWorker);
    }
    return ended.size();
  }

  private void record(TimedOutAttempt attempt) {
    String type = String.valueOf(attempt.type());
    meters
        .counter(
            MetricNames.ATTEMPTS_TIMED_OUT,
            MetricNames.TAG_TYPE,
            type,
            MetricNames.TAG_TIMEOUT,
            attempt.timeout().label())
        .increment();
    outcomes.count(attempt.newState(), type, attempt.pool());
    Map<String, String> mdc =
        JobMdc.of(attempt.jobId(), attempt.attempt(), attempt.workerId(), null);
    mdc.forEach(MDC::put);
    try {
      log.warn(
          "attempt {} of job {} (worker {}) passed its {} timeout; job is now {}",
          attempt.attempt(),
          attempt.jobId(),
          attempt.workerId(),
          attempt.which(),
          attempt.newState());
    } finally {
      mdc.keySet().forEach(MDC::remove);
    }
  }

  private void tellWorker(TimedOutAttempt attempt) {
    orders.send(
        attempt.workerId(),
        new WorkerControl(
            WorkerControl.Kind.ABANDON,
            attempt.jobId(),
            attempt.fencingToken(),
            attempt.reason(),
            "attempt " + attempt.attempt() + " passed its " + attempt.which() + " timeout"));
  }
}
