package dev.shepherd.worker;

import dev.shepherd.model.StatusEvent;
import java.time.Clock;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * One claimed attempt while it runs: the handler's context, the source of its sequence numbers, and
 * the flag that says the lease is lost.
 */
final class Attempt<P> implements JobContext<P> {

  private final String jobId;
  private final String type;
  private final int attempt;
  private final long fencingToken;
  private final String workerId;
  private final P payload;
  private final Clock clock;
  private final Consumer<StatusEvent> reporter;
  private final java.util.function.BiConsumer<String, java.time.Duration> phaseTimer;
  private final AtomicLong sequence = new AtomicLong();
  private volatile boolean cancelled;
  private volatile Thread runner;

  Attempt(
      String jobId,
      String type,
      int attempt,
      long fencingToken,
      String workerId,
      P payload,
      Clock clock,
      Consumer<StatusEvent> reporter,
      java.util.function.BiConsumer<String, java.time.Duration> phaseTimer) {
    this.phaseTimer = phaseTimer;
    this.jobId = jobId;
    this.type = type;
    this.attempt = attempt;
    this.fencingToken = fencingToken;
    this.workerId = workerId;
    this.payload = payload;
    this.clock = clock;
    this.reporter = reporter;
  }

  @Override
  public String jobId() {
    return jobId;
  }

  String type() {
    return type;
  }

  @Override
  public int attempt() {
    return attempt;
  }

  @Override
  public long fencingToken() {
    return fencingToken;
  }

  @Override
  public String workerId() {
    return workerId;
  }

  @Override
  public P payload() {
    return payload;
  }

  @Override
  public <T> T phase(String name, Callable<T> body) throws Exception {
    java.time.Instant started = clock.instant();
    report(
        new StatusEvent.PhaseStarted(
            jobId, type, attempt, fencingToken, next(), workerId, started, name));
    try {
      return body.call();
    } finally {
      java.time.Instant ended = clock.instant();
      phaseTimer.accept(name, java.time.Duration.between(started, ended));
      report(
          new StatusEvent.PhaseEnded(
              jobId, type, attempt, fencingToken, next(), workerId, ended, name));
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
    int bounded = Math.max(0, Math.min(100, percent));
    report(
        new StatusEvent.Progress(
            jobId,
            type,
            attempt,
            fencingToken,
            next(),
            workerId,
            clock.instant(),
            bounded,
            message));
  }

  StatusEvent succeeded() {
    return new StatusEvent.Succeeded(
        jobId, type, attempt, fencingToken, next(), workerId, clock.instant());
  }

  StatusEvent failed(String error, boolean retryable) {
    return new StatusEvent.Failed(
        jobId, type, attempt, fencingToken, next(), workerId, clock.instant(), error, retryable);
  }

  /** The next sequence number of this attempt: 1, 2, 3, ... */
  long next() {
    return sequence.incrementAndGet();
  }

  private void report(StatusEvent event) {
    if (!cancelled) {
      reporter.accept(event);
    }
  }

  /** Publishes the attempt's outcome through the same reporter (and trace) as its phases. */
  void reportOutcome(StatusEvent outcome) {
    reporter.accept(outcome);
  }

  @Override
  public boolean isCancelled() {
    return cancelled;
  }

  void runOn(Thread thread) {
    this.runner = thread;
  }

  /** The lease is lost: nothing more is reported, and the handler's thread is interrupted. */
  void cancel() {
    cancelled = true;
    Thread thread = runner;
    if (thread != null) {
      thread.interrupt();
    }
  }
}
