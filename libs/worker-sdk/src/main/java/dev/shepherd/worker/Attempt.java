package dev.shepherd.worker;

import dev.shepherd.messaging.PublishException;
import dev.shepherd.model.StatusEvent;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BiConsumer;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One claimed attempt while it runs: the handler's {@link JobContext}, the source of the attempt's
 * sequence numbers (1, 2, 3, ... over phases, progress and the outcome), and the flag that says the
 * lease is lost. Once cancelled it publishes nothing more.
 */
final class Attempt<P> implements JobContext<P> {

  private static final Logger log = LoggerFactory.getLogger(Attempt.class);

  private final Claim claim;
  private final P payload;
  private final Clock clock;
  private final Consumer<StatusEvent> publisher;
  private final BiConsumer<String, Duration> phaseTimer;
  private final AtomicLong sequence = new AtomicLong();
  private volatile boolean cancelled;
  private volatile String cancelledBecause;
  private Thread runner; // guarded by this: the thread to interrupt on cancel, while it runs us

  /**
   * @param publisher publishes one event with confirms; throws {@link PublishException}
   * @param phaseTimer receives each phase's name and duration
   */
  Attempt(
      Claim claim,
      P payload,
      Clock clock,
      Consumer<StatusEvent> publisher,
      BiConsumer<String, Duration> phaseTimer) {
    this.claim = claim;
    this.payload = payload;
    this.clock = clock;
    this.publisher = publisher;
    this.phaseTimer = phaseTimer;
  }

  Claim claim() {
    return claim;
  }

  @Override
  public String jobId() {
    return claim.jobId();
  }

  @Override
  public int attempt() {
    return claim.attempt();
  }

  @Override
  public long fencingToken() {
    return claim.fencingToken();
  }

  @Override
  public String workerId() {
    return claim.workerId();
  }

  @Override
  public P payload() {
    return payload;
  }

  @Override
  public <T> T phase(String name, Callable<T> body) throws Exception {
    if (name == null || name.isBlank()) {
      throw new IllegalArgumentException("a phase needs a name");
    }
    Instant started = clock.instant();
    report(
        new StatusEvent.PhaseStarted(
            claim.jobId(),
            claim.type(),
            claim.attempt(),
            claim.fencingToken(),
            next(),
            claim.workerId(),
            started,
            name));
    try {
      return body.call();
    } finally {
      Instant ended = clock.instant();
      phaseTimer.accept(name, Duration.between(started, ended));
      report(
          new StatusEvent.PhaseEnded(
              claim.jobId(),
              claim.type(),
              claim.attempt(),
              claim.fencingToken(),
              next(),
              claim.workerId(),
              ended,
              name));
    }
  }

  @Override
  public void phase(String name, PhaseBody body) throws Exception {
    phase(
        name,
        () -> {
          body.run();
          return null;
        });
  }

  @Override
  public void progress(int percent, String message) {
    report(
        new StatusEvent.Progress(
            claim.jobId(),
            claim.type(),
            claim.attempt(),
            claim.fencingToken(),
            next(),
            claim.workerId(),
            clock.instant(),
            Math.clamp(percent, 0, 100),
            message));
  }

  @Override
  public boolean isCancelled() {
    return cancelled;
  }

  /** Why the attempt was cancelled; null while it was not. */
  String cancelledBecause() {
    return cancelledBecause;
  }

  /** The SUCCEEDED event of this attempt, with the next sequence number. */
  StatusEvent succeeded() {
    return new StatusEvent.Succeeded(
        claim.jobId(),
        claim.type(),
        claim.attempt(),
        claim.fencingToken(),
        next(),
        claim.workerId(),
        clock.instant());
  }

  /** The FAILED event of this attempt, with the next sequence number. */
  StatusEvent failed(Failure failure) {
    return new StatusEvent.Failed(
        claim.jobId(),
        claim.type(),
        claim.attempt(),
        claim.fencingToken(),
        next(),
        claim.workerId(),
        clock.instant(),
        failure.error(),
        failure.retryable());
  }

  /**
   * Publishes the outcome. Unlike phases and progress, a failure here is thrown: the caller
   * retries, and gives up only by letting the lease expire.
   */
  void publishOutcome(StatusEvent outcome) {
    publisher.accept(outcome);
  }

  private long next() {
    return sequence.incrementAndGet();
  }

  /**
   * Publishes a phase or progress event. A broker failure here does not fail the job: the outcome
   * is what the job's state depends on, and the status-tracker tolerates gaps in sequence numbers.
   */
  private void report(StatusEvent event) {
    if (cancelled) {
      return;
    }
    try {
      publisher.accept(event);
    } catch (PublishException e) {
      log.warn(
          "could not publish {} #{} of {}; the job goes on: {}",
          event.eventName(),
          event.sequence(),
          claim,
          e.getMessage());
    }
  }

  /** Called on the handler's thread before it runs: a cancel now interrupts that thread. */
  synchronized void attach(Thread thread) {
    runner = thread;
    if (cancelled) {
      thread.interrupt();
    }
  }

  /**
   * Called on the handler's thread once the handler returned. Clears an interrupt meant for the
   * handler, so it cannot break the outcome's publishing or the consumer's next delivery; holding
   * the lock means no cancel can interrupt this thread after it moved on.
   */
  synchronized void detach() {
    runner = null;
    Thread.interrupted();
  }

  /**
   * The lease is lost, or the worker stops past its grace period: nothing more is published and the
   * handler is interrupted.
   *
   * @param because why, for the log line that ends the attempt
   */
  synchronized void cancel(String because) {
    if (!cancelled) {
      cancelledBecause = because;
    }
    cancelled = true;
    if (runner != null) {
      runner.interrupt();
    }
  }
}
