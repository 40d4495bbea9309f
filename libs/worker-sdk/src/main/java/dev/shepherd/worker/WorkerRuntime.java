package dev.shepherd.worker;

import dev.shepherd.messaging.ConfirmingPublisher;
import dev.shepherd.messaging.InfrastructurePause;
import dev.shepherd.messaging.OutgoingMessage;
import dev.shepherd.messaging.Topology;
import dev.shepherd.model.JobTimeouts;
import dev.shepherd.model.Json;
import dev.shepherd.model.MetricNames;
import dev.shepherd.model.StatusEvent;
import dev.shepherd.model.TraceParent;
import dev.shepherd.model.WorkMessage;
import dev.shepherd.model.WorkerView;
import dev.shepherd.store.ClaimResult;
import dev.shepherd.store.DeadJobs;
import dev.shepherd.store.Leases;
import dev.shepherd.store.ReapedLease;
import dev.shepherd.store.WorkerRegistry;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.io.IOException;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;
import org.springframework.amqp.core.Message;
import org.springframework.amqp.rabbit.connection.ConnectionFactory;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;

/**
 * A worker: takes work from its pool's queue, claims each attempt, runs the handler and reports.
 *
 * <p>It consumes through {@code capacity} slots (see {@link Slots}), each a consumer with a
 * prefetch of one that runs the handler on its own thread, so at most {@code capacity} jobs run at
 * once. A slot running a job takes no delivery: a busy worker holds no delivery that another worker
 * could run now (ADR 17). Per delivery:
 *
 * <ol>
 *   <li>Read the work message; one that cannot be read becomes a dead-job record and is acked.
 *   <li>A job type this worker has no handler for (a rolling deploy) goes back to the queue
 *       unclaimed, for another worker of the pool; on the last delivery the queue allows, the job
 *       is claimed and ends DEAD with "no handler for job type X".
 *   <li>Claim the attempt in Redis (lease, fencing token, RUNNING). A refused claim is a duplicate
 *       or late delivery: ack it, count it, do not run it.
 *   <li>Hold the delivery unacked while the job runs (with a prefetch of one, the slot then gets
 *       nothing else), for at most the ack hold ({@link WorkerSettings#ackHold()}, 1 s by default):
 *       a job over within it is acked then and the slot is free at once. Past the hold the slot
 *       cancels its consumer, then acks: from here on the lease, not an unacked delivery, says who
 *       owns the job, so a long job never meets the broker's consumer timeout, and with no consumer
 *       the slot takes no delivery it could not start. It subscribes again when the job is over. A
 *       worker that dies within the hold has its delivery requeued; the claim of the worker that
 *       gets it is refused (the lease is held) and it acks it as a duplicate.
 *   <li>Run the handler while the lease is renewed every third of its TTL, reporting phases and
 *       progress; then publish SUCCEEDED or FAILED (retrying with backoff).
 * </ol>
 *
 * <p>An attempt whose renewal is refused has lost the job, and one whose renewals go unconfirmed
 * for most of a TTL (Redis unreachable) may have: either way its handler is interrupted before
 * another worker can take the job, and nothing it reports any more is published. {@link
 * #stop(Duration)} stops taking work, lets running jobs finish within the grace period, and
 * releases the leases of those that did not.
 *
 * <p>A job cancelled while it runs (ADR 20) is CANCELLED in Redis before the worker hears of it,
 * from an order on its own control queue ({@link ControlOrders}) or, if the order is lost, from its
 * next lease renewal. The handler then sees {@link JobContext#isCancelled()} at once; it is
 * interrupted only if it still runs after {@link WorkerSettings#cancelGrace()} (10 s by default),
 * so a handler that checks the flag ends cleanly. An attempt recovery abandoned past a timeout is
 * interrupted at once. Either way nothing it reports is published, and its slot takes new work as
 * soon as the handler returns.
 *
 * <p>The worker keeps each attempt's timeouts too ({@link LocalTimeouts}), from the claim and from
 * what the handler reports: past one, the handler is interrupted at once and the attempt ends as
 * FAILED {@code timeout:<name>}, retryable, before recovery's pass would end it (ADR 18).
 *
 * <pre>{@code
 * var runtime = new WorkerRuntime(
 *     new WorkerSettings("worker-1", "default", 4, Duration.ofSeconds(30)),
 *     store.leases(), store.deadJobs(), topology, publisher, connectionFactory,
 *     List.of(new ResizeHandler()),
 *     registry, Clock.systemUTC(), meterRegistry);
 * runtime.start();
 * ...
 * runtime.stop(Duration.ofSeconds(30));
 * }</pre>
 */
public final class WorkerRuntime implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(WorkerRuntime.class);

  /**
   * How long a consumer holds a delivery it has no handler for before giving it back. Given back at
   * once, it could come straight back to this worker while the others are busy, and use up the
   * queue's delivery limit in milliseconds; held, it lets a worker that has the handler free a
   * slot.
   */
  private static final Duration NO_HANDLER_PAUSE = Duration.ofSeconds(2);

  /** The header in which a quorum queue counts the earlier deliveries of a message. */
  private static final String DELIVERY_COUNT = "x-delivery-count";

  private final WorkerSettings settings;
  private final Leases leaseStore;
  private final DeadJobs deadJobs;
  private final Topology topology;
  private final ConfirmingPublisher publisher;
  private final WorkerRegistry registry;
  private final Clock clock;
  private final MeterRegistry meters;
  private final Map<String, JobHandler<?>> handlers = new HashMap<>();
  private final String queue;
  private final Slots slots;
  private final ScheduledExecutorService scheduler;
  private final LeaseKeeper leases;
  private final Cancellations cancellations;
  private final ControlOrders orders;
  private final LocalTimeouts timeouts;
  private final InfrastructurePause claimPause;
  private final Set<Attempt<?>> running = ConcurrentHashMap.newKeySet();

  /**
   * Tokens of the attempts this worker claimed and still handles (running, or publishing their
   * outcome). A claim repeated for one of them returns the same token (its first reply may have
   * been lost): that is a second delivery of work in hand, not a second run.
   */
  private final Set<Long> inHand = ConcurrentHashMap.newKeySet();

  private final Counter consumed;
  private final Counter duplicates;
  private final Counter unreadable;
  private final Instant startedAt;
  private final AtomicBoolean started = new AtomicBoolean();
  private final AtomicBoolean stopped = new AtomicBoolean();
  private volatile String state = WorkerView.ACTIVE;

  /**
   * @param connectionFactory the broker connection to consume from
   * @param handlers one handler per job type this worker runs
   * @param registry where the worker announces itself (heartbeat), so recovery notices it vanish
   * @param clock the time of every status event and measurement
   */
  public WorkerRuntime(
      WorkerSettings settings,
      Leases leaseStore,
      DeadJobs deadJobs,
      Topology topology,
      ConfirmingPublisher publisher,
      ConnectionFactory connectionFactory,
      List<? extends JobHandler<?>> handlers,
      WorkerRegistry registry,
      Clock clock,
      MeterRegistry meters) {
    this.settings = settings;
    this.leaseStore = leaseStore;
    this.deadJobs = deadJobs;
    this.topology = topology;
    this.publisher = publisher;
    this.registry = registry;
    this.clock = clock;
    this.meters = meters;
    this.startedAt = clock.instant();
    for (JobHandler<?> handler : handlers) {
      if (handler.type() == null || handler.type().isBlank() || handler.payloadType() == null) {
        throw new IllegalArgumentException(
            "handler " + handler.getClass().getName() + " needs a type and a payload type");
      }
      JobHandler<?> other = this.handlers.put(handler.type(), handler);
      if (other != null) {
        throw new IllegalArgumentException(
            "two handlers for job type "
                + handler.type()
                + ": "
                + other.getClass().getName()
                + " and "
                + handler.getClass().getName());
      }
    }
    this.queue = topology.workQueue(settings.pool());
    this.consumed = meters.counter(MetricNames.MESSAGES_CONSUMED, "queue", queue);
    // a claim that failed because Redis did is retried in place until the worker stops
    this.claimPause =
        new InfrastructurePause(
            queue, InfrastructurePause.Backoff.DEFAULT, stopped::get, clock, meters);
    this.duplicates =
        Counter.builder(MetricNames.DUPLICATE_DELIVERIES)
            .description("deliveries acked without running: the attempt was held or finished")
            .register(meters);
    this.unreadable =
        Counter.builder(MetricNames.UNREADABLE_MESSAGES)
            .tag("source", "work")
            .description("work messages that could not be read and became dead-job records")
            .register(meters);
    Counter leasesLost =
        Counter.builder(MetricNames.LEASES_LOST)
            .description(
                "attempts stopped because their lease renewal was refused, or not confirmed in"
                    + " time")
            .register(meters);
    // Heartbeats only: lease renewals have threads of their own (LeaseKeeper), so a heartbeat
    // stuck in a Redis time-out never delays a renewal or the stop of a handler.
    this.scheduler =
        Executors.newSingleThreadScheduledExecutor(
            r -> Thread.ofPlatform().name("shepherd-heartbeat").daemon().unstarted(r));
    this.cancellations = new Cancellations(settings.cancelGrace(), meters);
    this.leases = new LeaseKeeper(leaseStore, settings.leaseTtl(), leasesLost, cancellations);
    this.timeouts = new LocalTimeouts(clock, meters);
    this.orders =
        new ControlOrders(
            connectionFactory,
            topology,
            settings.workerId(),
            running,
            cancellations,
            meters,
            InfrastructurePause.Backoff.DEFAULT);
    this.slots =
        new Slots(
            connectionFactory,
            queue,
            settings.capacity(),
            "shepherd-worker",
            settings.ackHold(),
            this::onMessage,
            InfrastructurePause.Backoff.DEFAULT);
  }

  /** The settings this worker runs with. */
  public WorkerSettings settings() {
    return settings;
  }

  /** The job types this worker has handlers for. */
  public Set<String> jobTypes() {
    return Set.copyOf(handlers.keySet());
  }

  /** Announces the worker and starts consuming its pool's queue and its orders. */
  public void start() {
    if (stopped.get() || !started.compareAndSet(false, true)) {
      return;
    }
    beat();
    long every = Math.max(1, settings.heartbeat().toMillis());
    scheduler.scheduleAtFixedRate(this::beat, every, every, TimeUnit.MILLISECONDS);
    orders.start();
    slots.start();
    log.info(
        "worker {} consuming {} with capacity {} (lease TTL {}), job types {}",
        settings.workerId(),
        queue,
        settings.capacity(),
        settings.leaseTtl(),
        handlers.keySet());
  }

  /** True between {@link #start()} and {@link #stop(Duration)}. */
  public boolean isRunning() {
    return started.get() && !stopped.get();
  }

  /**
   * Drains the worker: stops consuming at once (deliveries not yet claimed go back to the queue),
   * keeps renewing the leases of running jobs for up to {@code grace} while they finish, then
   * cancels what still runs and releases its leases, so those jobs run again elsewhere at once
   * instead of after their TTL. Calling it again does nothing.
   */
  public void stop(Duration grace) {
    if (!stopped.compareAndSet(false, true)) {
      return;
    }
    slots.stopConsuming(); // before anything slow: no delivery is claimed from here on
    state = WorkerView.DRAINING;
    beat();
    log.info(
        "worker {} draining: {} running, grace {}", settings.workerId(), running.size(), grace);
    slots.stopConsuming();
    slots.awaitStopped(grace); // every slot finished its job, or the grace ran out
    List<Attempt<?>> unfinished = List.copyOf(running);
    // at once, even within the grace of a cancel by request: the worker is going
    unfinished.forEach(a -> a.cancelAtShutdown("the worker stopped past its grace period"));
    if (!unfinished.isEmpty()) {
      releaseLeases(unfinished);
    }
    orders.close(); // only now: a job cancelled while the worker drained still hears of it
    slots.close();
    scheduler.shutdownNow();
    leases.close();
    timeouts.close();
    cancellations.close();
    try {
      registry.remove(settings.workerId());
    } catch (RuntimeException e) {
      log.warn(
          "could not remove worker {} from the registry: {}", settings.workerId(), e.toString());
    }
    log.info("worker {} stopped", settings.workerId());
  }

  /** Stops with a ten-second grace. */
  @Override
  public void close() {
    stop(Duration.ofSeconds(10));
  }

  /** How many attempts run right now. */
  public int runningCount() {
    return running.size();
  }

  /**
   * Releases the leases of the attempts that did not finish, and only those: an attempt whose
   * outcome is published keeps its lease until the outcome is applied (ADR 11, 14).
   */
  private void releaseLeases(List<Attempt<?>> unfinished) {
    try {
      List<ReapedLease> released =
          leaseStore.releaseAttempts(
              unfinished.stream()
                  .map(a -> new Leases.AttemptToken(a.claim().jobId(), a.claim().fencingToken()))
                  .toList(),
              "worker stopped before the job finished its grace period");
      for (ReapedLease lease : released) {
        log.info(
            "released job {} attempt {} at shutdown: now {}",
            lease.jobId(),
            lease.attempt(),
            lease.newState());
      }
    } catch (RuntimeException e) {
      log.warn(
          "could not release the leases of {} unfinished jobs; they expire after {}: {}",
          unfinished.size(),
          settings.leaseTtl(),
          e.toString());
    }
  }

  private void beat() {
    try {
      registry.heartbeat(
          new WorkerView(
              settings.workerId(),
              host(),
              settings.podName(),
              settings.pool(),
              settings.capacity(),
              WorkerRuntime.class.getPackage().getImplementationVersion(),
              state,
              startedAt,
              null,
              null));
    } catch (RuntimeException e) {
      log.warn("heartbeat of worker {} failed: {}", settings.workerId(), e.toString());
    }
  }

  private static String host() {
    try {
      return InetAddress.getLocalHost().getHostName();
    } catch (IOException e) {
      return "unknown";
    }
  }

  // ---- one delivery ----------------------------------------------------------------------------

  private void onMessage(Slots.Held held) {
    consumed.increment();
    Message message = held.message();
    if (givesBack(message)) {
      pause(NO_HANDLER_PAUSE);
      held.giveBack(); // unclaimed: another worker of the pool may run it
      return;
    }
    ClaimedWork claimed;
    try {
      claimed = claim(message);
    } catch (RuntimeException e) {
      // Redis failed before the attempt was claimed. Handing the delivery back would spend the
      // message's delivery limit on the outage (five returns take milliseconds), so the slot keeps
      // it and claims again once Redis answers; a repeated claim of the same attempt by this
      // worker returns the same token. A bug goes back to the queue, towards the limit.
      var retried = new AtomicReference<ClaimedWork>();
      try {
        if (!claimPause.retry(e, held::isHeld, () -> retried.set(claim(message)))) {
          held.giveBack(); // stopping: another worker takes it (if it is still held)
          return;
        }
      } catch (RuntimeException bug) {
        log.warn("could not claim a work message; it will be delivered again: {}", bug.toString());
        held.giveBack();
        return;
      }
      claimed = retried.get();
    }
    if (claimed == null) {
      held.ack(); // nothing to run: a duplicate, or an unreadable message now recorded
      return;
    }
    held.claimed(); // held unacked for the ack hold, then acked: no delivery waits behind this job
    try {
      run(claimed, trace(message));
    } finally {
      inHand.remove(claimed.fencingToken());
    }
  }

  /**
   * True when this worker has no handler for the delivery's job type and the queue will deliver it
   * again: during a rolling deploy another worker of the pool may have the handler, so the delivery
   * goes back unclaimed. On the last delivery the queue allows, it is claimed instead and the job
   * ends DEAD with "no handler for job type X", rather than being dead-lettered by the broker with
   * a reason that hides why.
   */
  private boolean givesBack(Message message) {
    if (!(Delivery.read(message.getBody()) instanceof Delivery.Readable readable)
        || handlers.containsKey(readable.work().type())) {
      return false;
    }
    // absent on the first delivery; the queue dead-letters a message returned more times than this
    Object earlier = message.getMessageProperties().getHeader(DELIVERY_COUNT);
    long deliveries = earlier instanceof Number n ? n.longValue() : 0;
    if (deliveries >= topology.deliveryLimit()) {
      return false;
    }
    String type = readable.work().type();
    meters.counter(MetricNames.DELIVERIES_GIVEN_BACK, MetricNames.TAG_TYPE, type).increment();
    log.debug(
        "no handler for job type {} (job {}); giving delivery {} of {} back",
        type,
        readable.work().jobId(),
        deliveries + 1,
        topology.deliveryLimit() + 1);
    return true;
  }

  /**
   * A claimed attempt, ready to run.
   *
   * @param claimSentAt {@link System#nanoTime()} when the claim was sent, for the lease's trust
   * @param claimedAt the clock's time when the claim was sent, for the attempt's timeouts
   * @param heartbeatDetails what an earlier attempt's last heartbeat carried, as JSON; or null
   */
  private record ClaimedWork(
      WorkMessage work,
      long fencingToken,
      long claimSentAt,
      Instant claimedAt,
      JobTimeouts timeouts,
      String heartbeatDetails) {}

  /**
   * Reads and claims one delivery. Returns null when there is nothing to run (unreadable, or a
   * duplicate); throws when Redis fails, so the delivery is not acked.
   */
  private ClaimedWork claim(Message message) {
    WorkMessage work =
        switch (Delivery.read(message.getBody())) {
          case Delivery.Unreadable u -> {
            recordUnreadable(u.problem(), message);
            yield null;
          }
          case Delivery.Readable r -> r.work();
        };
    if (work == null) {
      return null;
    }
    if (leaseStore.partitionOf(work.jobId()) < 0) {
      recordUnreadable("work message names '" + work.jobId() + "', not a Shepherd job id", message);
      return null;
    }
    long claimSentAt = System.nanoTime(); // the lease is trusted for less than a TTL from here
    Instant claimedAt = clock.instant(); // and timeouts run from here: never later than the server
    return switch (leaseStore.claim(
        work.jobId(), work.attempt(), settings.workerId(), settings.leaseTtl())) {
      case ClaimResult.Refused refused -> {
        duplicates.increment();
        log.debug(
            "duplicate delivery of job {} attempt {}: {} ({})",
            work.jobId(),
            work.attempt(),
            refused.reason(),
            refused.state());
        yield null;
      }
      case ClaimResult.Claimed c
          when !inHand.add(c.fencingToken())
              || leases.isWaitingFor(work.jobId(), c.fencingToken()) -> {
        duplicates.increment();
        log.debug(
            "duplicate delivery of job {} attempt {}: this worker already runs it",
            work.jobId(),
            work.attempt());
        yield null;
      }
      case ClaimResult.Claimed c ->
          new ClaimedWork(
              work, c.fencingToken(), claimSentAt, claimedAt, c.timeouts(), c.heartbeatDetails());
    };
  }

  private void recordUnreadable(String problem, Message message) {
    String raw = new String(message.getBody(), StandardCharsets.UTF_8);
    var dead = deadJobs.recordDead(null, null, problem, queue, raw);
    unreadable.increment();
    log.warn("work message from {} recorded as dead job {}: {}", queue, dead.id(), problem);
  }

  // ---- one attempt -----------------------------------------------------------------------------

  private void run(ClaimedWork claimed, TraceParent trace) {
    WorkMessage work = claimed.work();
    var claim =
        new Claim(
            work.jobId(), work.type(), work.attempt(), claimed.fencingToken(), settings.workerId());
    MDC.setContextMap(claim.mdc());
    MDC.put("traceId", trace.traceId());
    try {
      log.info("claimed {}", claim);
      recordClaim(work);
      JobHandler<?> handler = handlers.get(work.type());
      if (handler == null) {
        var attempt = attempt(claim, null, trace, null);
        finish(attempt, attempt.failed(Failure.noHandler(work.type(), settings.workerId())));
      } else {
        runWith(handler, claim, claimed, trace);
      }
    } finally {
      MDC.clear();
    }
  }

  private <P> void runWith(
      JobHandler<P> handler, Claim claim, ClaimedWork claimed, TraceParent trace) {
    WorkMessage work = claimed.work();
    switch (PayloadBinding.bind(work.payload(), handler.payloadType())) {
      case PayloadBinding.Unbound<P> unbound -> {
        Attempt<P> attempt = attempt(claim, null, trace, null);
        finish(
            attempt,
            attempt.failed(Failure.unboundPayload(handler.payloadType(), unbound.problem())));
      }
      case PayloadBinding.Bound<P> bound -> {
        Attempt<P> attempt =
            attempt(claim, bound.payload(), trace, heartbeatDetails(claimed.heartbeatDetails()));
        LeaseKeeper.Renewal renewal = leases.keep(attempt, claimed.claimSentAt());
        boolean published = false;
        try {
          Instant began = clock.instant();
          StatusEvent outcome;
          try (var watch = timeouts.watch(attempt, claimed.timeouts(), claimed.claimedAt())) {
            outcome = execute(handler, attempt);
          }
          Timer.builder(MetricNames.START_TO_FINISH)
              .tag(MetricNames.TAG_TYPE, work.type())
              .tag("outcome", outcome.eventName())
              .publishPercentileHistogram()
              .register(meters)
              .record(Duration.between(began, clock.instant()));
          // The lease is marked as waiting for its outcome before the outcome is published, so a
          // worker that dies right after publishing never leaves an unmarked lease that recovery
          // would release and re-dispatch at once, refusing the outcome when it comes (ADR 14).
          // It is renewed while the outcome is published, and then until it is applied.
          if (!attempt.isWithdrawn()) {
            renewal.markOutcomeComing();
          }
          published = finish(attempt, outcome);
          if (published) {
            renewal.holdUntilApplied(settings.outcomeHold());
          }
        } finally {
          // After SUCCEEDED or FAILED the status-tracker releases the lease; after giving up (or
          // after anything unforeseen) the lease expires and the job runs again elsewhere.
          if (!published) {
            renewal.stop();
          }
        }
      }
    }
  }

  /**
   * Runs the handler and reads its outcome. An attempt the worker timed out ends as its timeout's
   * failure whatever the handler threw (most likely the interrupt's exception) or returned.
   */
  private <P> StatusEvent execute(JobHandler<P> handler, Attempt<P> attempt) {
    running.add(attempt);
    attempt.attach(Thread.currentThread());
    Throwable thrown = null;
    try {
      handler.handle(attempt);
    } catch (Exception | Error e) {
      // An Error too: a handler's bug (a missing class, a stack overflow) must not kill the
      // consumer thread and leave the lease renewed forever; it is reported like any failure.
      thrown = e;
    } finally {
      attempt.detach(); // from here on, no time-out or cancel reaches the handler
      running.remove(attempt);
    }
    Optional<Failure> timedOut = attempt.timedOut();
    if (timedOut.isPresent()) {
      log.debug("handler of {} ended after it timed out", attempt.claim(), thrown);
      return attempt.failed(timedOut.get());
    }
    switch (thrown) {
      case null -> {
        return attempt.succeeded();
      }
      case RetryableJobException e -> log.debug("handler of {} threw", attempt.claim(), e);
      case PermanentJobException e -> log.debug("handler of {} threw", attempt.claim(), e);
      case Exception e ->
          // not a failure the handler declared: the stack trace is what its author needs
          log.warn("handler of {} threw {}", attempt.claim(), e.toString(), e);
      default -> log.error("handler of {} failed with {}", attempt.claim(), thrown, thrown);
    }
    return attempt.failed(Failure.of(thrown));
  }

  /** The details an earlier attempt's heartbeat left, read from the claim's JSON; or null. */
  private static JsonNode heartbeatDetails(String json) {
    if (json == null || json.isBlank()) {
      return null;
    }
    try {
      return Json.mapper().readTree(json);
    } catch (JacksonException e) {
      // the status-tracker stored what a worker sent; the job itself can still run
      log.warn("ignoring unreadable heartbeat details of an earlier attempt: {}", e.getMessage());
      return null;
    }
  }

  /**
   * Publishes the outcome, retrying, unless the attempt was cancelled (its lease lost).
   *
   * @return true once the broker confirmed the outcome
   */
  private boolean finish(Attempt<?> attempt, StatusEvent outcome) {
    if (attempt.isWithdrawn()) {
      log.info(
          "{} ended after {}; its outcome is not reported",
          attempt.claim(),
          attempt.cancelledBecause());
      return false;
    }
    boolean published =
        OutcomePublisher.withDefaults(attempt::publishOutcome)
            .publish(outcome, () -> !attempt.isWithdrawn());
    if (published) {
      log.info("finished {}: {}", attempt.claim(), describe(outcome));
    } else if (attempt.isWithdrawn()) {
      log.info(
          "{} was cancelled while reporting ({}); its outcome is not reported",
          attempt.claim(),
          attempt.cancelledBecause());
    } else {
      log.error(
          "gave up publishing {} of {}; its lease expires within {} and the job runs again",
          outcome.eventName(),
          attempt.claim(),
          settings.leaseTtl());
    }
    return published;
  }

  private static String describe(StatusEvent outcome) {
    return switch (outcome) {
      case StatusEvent.Failed f ->
          "FAILED (" + (f.retryable() ? "retryable" : "permanent") + "): " + f.error();
      default -> outcome.eventName();
    };
  }

  private <P> Attempt<P> attempt(
      Claim claim, P payload, TraceParent trace, JsonNode lastHeartbeatDetails) {
    return new Attempt<>(
        claim,
        payload,
        clock,
        event -> publish(event, trace),
        (phase, took) ->
            Timer.builder(MetricNames.PHASE_DURATION)
                .tag(MetricNames.TAG_TYPE, claim.type())
                .tag("phase", phase)
                .publishPercentileHistogram()
                .register(meters)
                .record(took),
        lastHeartbeatDetails);
  }

  private void recordClaim(WorkMessage work) {
    meters
        .counter(
            MetricNames.JOBS_CLAIMED,
            MetricNames.TAG_TYPE,
            work.type(),
            MetricNames.TAG_POOL,
            settings.pool())
        .increment();
    if (work.submittedAt() != null) {
      Timer.builder(MetricNames.SUBMIT_TO_START)
          .tag(MetricNames.TAG_TYPE, work.type())
          .publishPercentileHistogram()
          .register(meters)
          .record(Duration.between(work.submittedAt(), clock.instant()));
    }
  }

  /** The work message's trace context, or a new trace when it came without one. */
  private static TraceParent trace(Message message) {
    Object header = message.getMessageProperties().getHeader(TraceParent.HEADER);
    return TraceParent.parse(header == null ? null : header.toString())
        .orElseGet(TraceParent::newRoot);
  }

  private void publish(StatusEvent event, TraceParent trace) {
    publisher.publish(
        new OutgoingMessage(
            topology.statusExchange(),
            topology.statusRoutingKey(event.type(), event.eventName()),
            event.jobId() + ":" + event.attempt() + ":" + event.sequence(),
            Json.mapper().writeValueAsBytes(event),
            Map.of(TraceParent.HEADER, trace.child().toString())));
  }

  private static void pause(Duration duration) {
    try {
      Thread.sleep(duration);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
