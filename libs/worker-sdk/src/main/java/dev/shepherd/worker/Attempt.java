package dev.shepherd.worker;

import dev.shepherd.messaging.PublishException;
import dev.shepherd.model.Json;
import dev.shepherd.model.StatusEvent;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BiConsumer;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.JsonNode;

/**
 * One claimed attempt while it runs: the handler's {@link JobContext}, the source of the attempt's
 * sequence numbers (1, 2, 3, ... over phases, progress and the outcome), and the flag that says it
 * is cancelled. Once cancelled it publishes nothing more.
 *
 * <p>Two kinds of cancel differ in when the handler's thread is interrupted. One that leaves the
 * job to another attempt (the lease lost, the attempt abandoned past a timeout, the worker stopped
 * past its grace) interrupts at once. A cancel by request (the job was cancelled) only sets the
 * flag, and interrupts after a grace if the handler still runs then: a cooperative handler checks
 * {@link #isCancelled()} and cleans up without an interrupt breaking its I/O. The job is already
 * CANCELLED in Redis, so nobody else runs it meanwhile; a lease renewal refused during the grace
 * (as it will be) must not cut it short, and only a stop of the worker past its drain grace does.
 *
 * <p>An attempt the worker times out itself ({@link LocalTimeouts}) is not cancelled: its handler
 * is interrupted at once and {@link #isCancelled()} is true, its phases, progress and heartbeats
 * are no longer published, but its outcome is, and it is the timeout's failure whatever the handler
 * does then. A cancel that comes afterwards (the server timed it out too and sent ABANDON) still
 * withdraws the outcome.
 */
final class Attempt<P> implements JobContext<P> {

  private static final Logger log = LoggerFactory.getLogger(Attempt.class);

  private final Claim claim;
  private final P payload;
  private final Clock clock;
  private final Consumer<StatusEvent> publisher;
  private final BiConsumer<String, Duration> phaseTimer;
  private final JsonNode lastHeartbeatDetails;
  private final AtomicLong sequence = new AtomicLong();
  private volatile Activity activity = Activity.NONE;
  private volatile boolean cancelled;
  private volatile Failure timedOut;
  private volatile String cancelledBecause;
  private boolean finished; // guarded by this: the handler returned, nothing can time it out
  private Thread runner; // guarded by this: the thread to interrupt on cancel, while it runs us
  private boolean interruptDue; // guarded by this: the handler's thread is to be interrupted
  private ScheduledFuture<?> graceEnds; // guarded by this: a cancel by request's grace, running

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
    this(claim, payload, clock, publisher, phaseTimer, null);
  }

  /**
   * @param lastHeartbeatDetails what the last heartbeat of an earlier attempt carried (from the
   *     claim); null when none
   */
  Attempt(
      Claim claim,
      P payload,
      Clock clock,
      Consumer<StatusEvent> publisher,
      BiConsumer<String, Duration> phaseTimer,
      JsonNode lastHeartbeatDetails) {
    this.claim = claim;
    this.payload = payload;
    this.clock = clock;
    this.publisher = publisher;
    this.phaseTimer = phaseTimer;
    this.lastHeartbeatDetails =
        lastHeartbeatDetails == null || lastHeartbeatDetails.isNull() ? null : lastHeartbeatDetails;
  }

  /** What the handler did that counts against its timeouts; told as it happens. */
  interface Activity {

    /** Tells nobody. */
    Activity NONE =
        new Activity() {
          @Override
          public void phaseStarted(String name, Instant at) {}

          @Override
          public void phaseEnded(String name, Instant at) {}

          @Override
          public void reported(Instant at) {}
        };

    void phaseStarted(String name, Instant at);

    void phaseEnded(String name, Instant at);

    /** Progress or a heartbeat. */
    void reported(Instant at);
  }

  /** From now on, the handler's phases, progress and heartbeats are told to {@code activity}. */
  void reportActivityTo(Activity activity) {
    this.activity = activity;
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
    activity.phaseStarted(name, started);
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
      activity.phaseEnded(name, ended);
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
    Instant at = clock.instant();
    activity.reported(at);
    report(
        new StatusEvent.Progress(
            claim.jobId(),
            claim.type(),
            claim.attempt(),
            claim.fencingToken(),
            next(),
            claim.workerId(),
            at,
            Math.clamp(percent, 0, 100),
            message));
  }

  @Override
  public void heartbeat(Object details) {
    JsonNode tree = null;
    if (details != null) {
      byte[] json = Json.mapper().writeValueAsBytes(details);
      if (json.length > MAX_HEARTBEAT_DETAILS_BYTES) {
        throw new IllegalArgumentException(
            "heartbeat details are "
                + json.length
                + " bytes of JSON; at most 16 KiB ("
                + MAX_HEARTBEAT_DETAILS_BYTES
                + " bytes) are kept: send where to resume from, not the work itself");
      }
      tree = Json.mapper().readTree(json);
    }
    Instant at = clock.instant();
    activity.reported(at);
    report(
        new StatusEvent.Heartbeat(
            claim.jobId(),
            claim.type(),
            claim.attempt(),
            claim.fencingToken(),
            next(),
            claim.workerId(),
            at,
            tree));
  }

  @Override
  public Optional<JsonNode> lastHeartbeatDetails() {
    return Optional.ofNullable(lastHeartbeatDetails).map(JsonNode::deepCopy);
  }

  /** Set once by the runtime after the claim, from the job's startToClose; null for none. */
  private volatile Instant deadline;

  /** The attempt's deadline, from its claim and the job's startToClose; null for none. */
  void deadline(Instant deadline) {
    this.deadline = deadline;
  }

  @Override
  public Optional<Instant> deadline() {
    return Optional.ofNullable(deadline);
  }

  @Override
  public boolean isCancelled() {
    return cancelled || timedOut != null;
  }

  /**
   * True once the attempt is withdrawn: cancelled, abandoned, its lease lost, or the worker stopped
   * past its grace. Nothing more it reports is published, its outcome included. An attempt only
   * timed out by the worker is not withdrawn: it reports its failure.
   */
  boolean isWithdrawn() {
    return cancelled;
  }

  /** The failure the worker timed the attempt out with, once it did. */
  Optional<Failure> timedOut() {
    return Optional.ofNullable(timedOut);
  }

  /** Why the attempt was cancelled; null while it was not. */
  String cancelledBecause() {
    return cancelledBecause;
  }

  @Override
  public Optional<String> cancellationReason() {
    return Optional.ofNullable(cancelledBecause);
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
    if (cancelled || timedOut != null) {
      return; // withdrawn, or its outcome is decided: the failure is all it has left to say
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

  /**
   * Called on the handler's thread before it runs: a cancel now interrupts that thread (or, after a
   * cancel by request, the end of its grace does).
   */
  synchronized void attach(Thread thread) {
    runner = thread;
    if (interruptDue) {
      thread.interrupt();
    }
  }

  /**
   * Called on the handler's thread once the handler returned. Clears an interrupt meant for the
   * handler, so it cannot break the outcome's publishing or the consumer's next delivery; holding
   * the lock means no cancel, and no end of a grace, can interrupt this thread after it moved on.
   */
  synchronized void detach() {
    runner = null;
    finished = true;
    if (graceEnds != null) {
      graceEnds.cancel(false); // the handler is over: nothing left to interrupt
      graceEnds = null;
    }
    Thread.interrupted();
  }

  /**
   * The lease is lost or the attempt was abandoned: nothing more is published and the handler is
   * interrupted now; unless a cancel by request gave it a grace that has not ended, whose end then
   * interrupts it (the job is cancelled either way, and the handler was promised the time).
   *
   * @param because why, for the log line that ends the attempt
   * @return true when this call cancelled the attempt, false when it was cancelled already
   */
  synchronized boolean cancel(String because) {
    boolean first = markCancelled(because);
    if (graceEnds == null) {
      interrupt();
    }
    return first;
  }

  /**
   * The worker found the attempt past one of its timeouts: the handler is interrupted now, sees
   * {@link #isCancelled()}, and whatever it does the attempt's outcome is {@code failure}. Nothing
   * happens to an attempt already withdrawn, timed out, or whose handler returned.
   *
   * @param because what {@link #cancellationReason()} says
   * @return true when this call timed the attempt out
   */
  synchronized boolean timeOut(Failure failure, String because) {
    if (cancelled || timedOut != null || finished) {
      return false;
    }
    cancelledBecause = because; // before the flag: whoever sees the flag sees why
    timedOut = failure;
    interrupt();
    return true;
  }

  /**
   * The worker stops past its drain grace: like {@link #cancel(String)}, but the handler is
   * interrupted now even within the grace of a cancel by request, since its lease is released.
   */
  synchronized boolean cancelAtShutdown(String because) {
    boolean first = markCancelled(because);
    if (graceEnds != null) {
      graceEnds.cancel(false);
      graceEnds = null;
    }
    interrupt();
    return first;
  }

  /**
   * The job was cancelled by request: {@link #isCancelled()} is true and nothing more is published
   * from now on; the handler's thread is interrupted when {@code grace} has passed, if the handler
   * still runs then (at once for a zero grace). An attempt cancelled already keeps its cancel.
   *
   * @param timer runs the interrupt at the grace's end
   * @return true when this call cancelled the attempt
   */
  synchronized boolean cancelGracefully(
      String because, Duration grace, ScheduledExecutorService timer) {
    if (cancelled) {
      return false; // its interrupt, or its grace, stands
    }
    markCancelled(because);
    if (grace.isZero() || grace.isNegative()) {
      interrupt();
      return true;
    }
    try {
      graceEnds = timer.schedule(this::graceEnded, grace.toNanos(), TimeUnit.NANOSECONDS);
    } catch (RejectedExecutionException e) {
      interrupt(); // the worker is stopping: nobody would end the grace
    }
    return true;
  }

  /** On the timer's thread: the grace is over; interrupt the handler if it still runs. */
  private synchronized void graceEnded() {
    if (graceEnds == null) {
      return; // the handler returned, or the worker stopped, first
    }
    graceEnds = null;
    interrupt();
  }

  private boolean markCancelled(String because) {
    boolean first = !cancelled;
    if (first) {
      cancelledBecause = because; // before the flag: whoever sees the flag sees why
    }
    cancelled = true;
    return first;
  }

  private void interrupt() {
    interruptDue = true;
    if (runner != null) {
      runner.interrupt();
    }
  }
}
