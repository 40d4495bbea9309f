package dev.shepherd.worker;

import dev.shepherd.engine.status.StatusApplier;
import dev.shepherd.messaging.ConfirmingPublisher;
import dev.shepherd.messaging.InfrastructurePause;
import dev.shepherd.messaging.Topology;
import dev.shepherd.model.TraceParent;
import dev.shepherd.store.AnnouncedType;
import dev.shepherd.store.DeadJobs;
import dev.shepherd.store.Leases;
import dev.shepherd.store.ReapedLease;
import dev.shepherd.store.WorkerRegistry;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.amqp.core.Binding;
import org.springframework.amqp.rabbit.connection.ConnectionFactory;

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
 *       progress; then publish SUCCEEDED or FAILED (retrying with backoff) off the slot's thread,
 *       so the slot takes its next delivery while the broker confirms (ADR 39).
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
 * <p>This class only starts, stops and drains the worker; the parts it wires are {@link
 * DeliveryListener} (one delivery, up to the claim), {@link AttemptExecution} (one claimed
 * attempt), {@link Handlers}, {@link WorkerHeartbeat}, {@link LeaseKeeper}, {@link LocalTimeouts},
 * {@link CancelGrace}, {@link ControlOrders} (with {@link RemoteReports}, where the reports of the
 * attempts a {@link DistributedHandler} runs on a backend arrive), {@link StatusPublisher} and
 * {@link WorkerMeters}.
 *
 * <pre>{@code
 * var runtime = new WorkerRuntime(
 *     new WorkerSettings("worker-1", "default", 4, Duration.ofSeconds(30)),
 *     store, topology, publisher, connectionFactory, List.of(new ResizeHandler()),
 *     registry, Clock.systemUTC(), meterRegistry);
 * runtime.start();
 * ...
 * runtime.stop(Duration.ofSeconds(30));
 * }</pre>
 */
public final class WorkerRuntime implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(WorkerRuntime.class);

  /** The longest a stopping worker waits for the confirms of outcomes already published. */
  private static final Duration OUTCOMES_AT_STOP = Duration.ofSeconds(10);

  private final WorkerSettings settings;
  private final Leases leaseStore;
  private final Handlers handlers;
  private final String queue;
  private final Slots slots;
  private final WorkerHeartbeat heartbeat;
  private final LeaseKeeper leases;
  private final StatusPublisher statuses;
  private final AttemptExecution execution;
  private final CancelGrace cancelGrace;
  private final ControlOrders orders;
  private final LocalTimeouts timeouts;
  private final Set<Attempt<?>> running = ConcurrentHashMap.newKeySet();
  private final AtomicBoolean started = new AtomicBoolean();
  private final AtomicBoolean stopped = new AtomicBoolean();

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
    this(
        settings,
        leaseStore,
        deadJobs,
        topology,
        publisher,
        connectionFactory,
        handlers,
        new RemoteReports(),
        registry,
        clock,
        meters);
  }

  /**
   * A worker whose handlers include {@link DistributedHandler}s: they take the reports of their
   * attempts' backends from {@code remoteReports}, which this worker's control orders fill.
   *
   * @param remoteReports the registry the distributed handlers were built with
   */
  public WorkerRuntime(
      WorkerSettings settings,
      Leases leaseStore,
      DeadJobs deadJobs,
      Topology topology,
      ConfirmingPublisher publisher,
      ConnectionFactory connectionFactory,
      List<? extends JobHandler<?>> handlers,
      RemoteReports remoteReports,
      WorkerRegistry registry,
      Clock clock,
      MeterRegistry meters) {
    this(
        settings,
        leaseStore,
        deadJobs,
        topology,
        publisher,
        connectionFactory,
        handlers,
        remoteReports,
        registry,
        clock,
        meters,
        null);
  }

  /**
   * A worker that writes its attempts' status events into the store itself (ADR 56) with {@code
   * directReports}, the status queue taking only what the store refused to take; with null it
   * publishes every event to the status queue for the status-tracker.
   */
  public WorkerRuntime(
      WorkerSettings settings,
      Leases leaseStore,
      DeadJobs deadJobs,
      Topology topology,
      ConfirmingPublisher publisher,
      ConnectionFactory connectionFactory,
      List<? extends JobHandler<?>> handlers,
      RemoteReports remoteReports,
      WorkerRegistry registry,
      Clock clock,
      MeterRegistry meters,
      StatusApplier directReports) {
    this.settings = settings;
    this.leaseStore = leaseStore;
    this.handlers = new Handlers(handlers);
    this.queue = topology.workQueue(settings.pool());
    var workerMeters =
        new WorkerMeters(
            meters, settings.pool(), queue, topology.workerControlQueue(settings.workerId()));
    this.heartbeat =
        new WorkerHeartbeat(settings, registry, announcements(handlers, settings.pool()), clock);
    this.cancelGrace = new CancelGrace(settings.cancelGrace(), workerMeters);
    this.leases = new LeaseKeeper(leaseStore, settings.leaseTtl(), workerMeters, cancelGrace);
    this.timeouts = new LocalTimeouts(clock, workerMeters);
    this.orders =
        new ControlOrders(
            connectionFactory,
            topology,
            settings.workerId(),
            running,
            remoteReports,
            cancelGrace,
            workerMeters,
            settings.errorBackoffs());
    this.statuses =
        new StatusPublisher(
            publisher,
            topology,
            directReports == null
                ? null
                : (events, traces) ->
                    directReports.applyEvents(
                        events, traces.stream().map(TraceParent::traceId).toList()));
    this.execution =
        new AttemptExecution(
            settings, this.handlers, leases, timeouts, statuses, running, clock, workerMeters);
    // a claim that failed because Redis did is retried in place until the worker stops
    var claimPause =
        new InfrastructurePause(queue, settings.errorBackoffs(), stopped::get, clock, meters);
    var deliveries =
        new DeliveryListener(
            settings,
            leaseStore,
            deadJobs,
            topology,
            this.handlers,
            leases,
            claimPause,
            execution,
            clock,
            workerMeters);
    this.slots =
        new Slots(
            connectionFactory,
            queue,
            topology
                .poolBindings(settings.pool(), typesRoutedHere(topology, settings.pool(), handlers))
                .getDeclarablesByType(Binding.class),
            settings.capacity(),
            "shepherd-worker",
            settings.ackHold(),
            deliveries,
            settings.errorBackoffs(),
            Slots.FORGOTTEN_CHECK);
  }

  /**
   * The types a worker of {@code pool} binds to its queue (ADR 35): each it has a handler for,
   * unless the configuration gives the type to another pool (two pools bound to one type would both
   * get its messages; a warning says so).
   */
  public static List<String> typesRoutedHere(
      Topology topology, String pool, List<? extends JobHandler<?>> handlers) {
    return handlers.stream()
        .map(JobHandler::type)
        .filter(
            type -> {
              String configured = topology.poolOf(type);
              if (configured != null && !configured.equals(pool)) {
                log.warn(
                    "job type {} is configured for pool {}; this worker of pool {} will not"
                        + " receive its jobs",
                    type,
                    configured,
                    pool);
                return false;
              }
              return true;
            })
        .toList();
  }

  /**
   * What the worker announces of each handler's type (ADR 35): its pool, its payload's schema and
   * its defaults.
   */
  static List<AnnouncedType> announcements(List<? extends JobHandler<?>> handlers, String pool) {
    return handlers.stream()
        .map(
            h ->
                new AnnouncedType(
                    h.type(), pool, h.payloadSchema(), h.maxAttempts(), h.timeouts(), null, null))
        .toList();
  }

  /** The settings this worker runs with. */
  public WorkerSettings settings() {
    return settings;
  }

  /** The job types this worker has handlers for. */
  public Set<String> jobTypes() {
    return handlers.types();
  }

  /** Announces the worker and starts consuming its pool's queue and its orders. */
  public void start() {
    if (stopped.get() || !started.compareAndSet(false, true)) {
      return;
    }
    heartbeat.start();
    orders.start();
    slots.start();
    slots.bound().thenRun(heartbeat::routed);
    log.info(
        "worker {} consuming {} with capacity {} (lease TTL {}), job types {}",
        settings.workerId(),
        queue,
        settings.capacity(),
        settings.leaseTtl(),
        handlers.types());
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
    heartbeat.draining();
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
    // the outcomes still waiting for their confirm (ADR 39): milliseconds, unless the broker is
    // away, and then no longer than the lease is trusted, and at most OUTCOMES_AT_STOP
    Duration trusted = LeaseKeeper.trustedFor(settings.leaseTtl());
    if (!execution.awaitOutcomes(
        trusted.compareTo(OUTCOMES_AT_STOP) < 0 ? trusted : OUTCOMES_AT_STOP)) {
      log.warn("outcomes still unconfirmed at shutdown; their leases expire and they run again");
    }
    execution.close();
    statuses.close(); // after the slots and the outcomes: what they published is sent first
    leases.close();
    timeouts.close();
    cancelGrace.close();
    heartbeat.close(); // stops the beats, and removes the worker from the registry
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
}
