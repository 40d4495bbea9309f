package dev.shepherd.worker;

import dev.shepherd.model.MetricNames;
import java.time.Duration;
import java.util.concurrent.ScheduledExecutorService;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Stops running attempts whose job ended elsewhere: one cancelled (by a control order, or found so
 * by a lease renewal) is told at once and interrupted only when the cancel grace ends; one
 * abandoned by recovery past a timeout is interrupted at once. It holds the grace and the timer
 * that ends it, and counts each attempt it stops once ({@link MetricNames#ATTEMPTS_CANCELLED}).
 * Nothing the attempt reports afterwards is published.
 */
final class CancelGrace implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(CancelGrace.class);

  private final Duration grace;
  private final WorkerMeters meters;
  private final ScheduledExecutorService timer;

  /**
   * @param grace how long a handler whose job was cancelled may go on before it is interrupted
   */
  CancelGrace(Duration grace, WorkerMeters meters) {
    this.grace = grace;
    this.meters = meters;
    this.timer = Timers.daemon("shepherd-cancel-grace");
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
    meters.attemptStopped(attempt.claim().type(), kind);
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
