package dev.shepherd.worker;

import dev.shepherd.model.MetricNames;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Stops running attempts whose job ended elsewhere: cancelled (by a control order, or found so by a
 * lease renewal) or abandoned by recovery past a timeout. It holds the cancel grace and the timer
 * that interrupts a cancelled handler when the grace ends, and counts each attempt it stops once
 * ({@link MetricNames#ATTEMPTS_CANCELLED}). Nothing the attempt reports afterwards is published.
 */
final class Cancellations implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(Cancellations.class);

  private final Duration grace;
  private final MeterRegistry meters;
  private final ScheduledExecutorService timer;

  /**
   * @param grace how long a handler whose job was cancelled may go on before it is interrupted
   */
  Cancellations(Duration grace, MeterRegistry meters) {
    this.grace = grace;
    this.meters = meters;
    this.timer =
        Executors.newSingleThreadScheduledExecutor(
            r -> Thread.ofPlatform().name("shepherd-cancel-grace").daemon().unstarted(r));
  }

  /**
   * The attempt's job was cancelled: the handler sees {@link JobContext#isCancelled()} now and is
   * interrupted after the grace if it still runs.
   *
   * @param because what {@link JobContext#cancellationReason()} says
   * @return true when this call cancelled the attempt (it was not cancelled before)
   */
  boolean cancel(Attempt<?> attempt, String because) {
    boolean first = attempt.cancelGracefully(because, grace, timer);
    if (first) {
      stopped(attempt, "cancel", because, grace);
    }
    return first;
  }

  /**
   * Recovery ended the attempt past a timeout (the job may run again elsewhere): cancelled, and its
   * handler interrupted, at once.
   *
   * @return true when this call cancelled the attempt
   */
  boolean abandon(Attempt<?> attempt, String because) {
    boolean first = attempt.cancel(because);
    if (first) {
      stopped(attempt, "abandon", because, Duration.ZERO);
    }
    return first;
  }

  private void stopped(Attempt<?> attempt, String kind, String because, Duration interruptAfter) {
    Counter.builder(MetricNames.ATTEMPTS_CANCELLED)
        .description("running attempts stopped because their job was cancelled or abandoned")
        .tag(MetricNames.TAG_TYPE, attempt.claim().type())
        .tag(MetricNames.TAG_KIND, kind)
        .register(meters)
        .increment();
    // the caller has put the attempt's MDC in place
    log.info(
        "stopping {}: {}; its handler is interrupted {}",
        attempt.claim(),
        because,
        interruptAfter.isZero() ? "now" : "in " + interruptAfter + " if it still runs");
  }

  /** Stops the timer; called when the worker stops, after it cancelled what still ran. */
  @Override
  public void close() {
    timer.shutdownNow();
  }
}
