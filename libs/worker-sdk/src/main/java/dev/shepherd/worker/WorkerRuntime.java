package dev.shepherd.worker;

import com.rabbitmq.client.Channel;
import dev.shepherd.messaging.ConfirmingPublisher;
import dev.shepherd.messaging.OutgoingMessage;
import dev.shepherd.messaging.Topology;
import dev.shepherd.model.Json;
import dev.shepherd.model.MetricNames;
import dev.shepherd.model.StatusEvent;
import dev.shepherd.model.TraceParent;
import dev.shepherd.model.WorkMessage;
import dev.shepherd.model.WorkerView;
import dev.shepherd.store.ClaimResult;
import dev.shepherd.store.JobStore;
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
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;
import org.springframework.amqp.core.AcknowledgeMode;
import org.springframework.amqp.core.Message;
import org.springframework.amqp.rabbit.connection.ConnectionFactory;
import org.springframework.amqp.rabbit.listener.SimpleMessageListenerContainer;
import org.springframework.amqp.rabbit.listener.api.ChannelAwareMessageListener;

/**
 * A worker: takes work from its pool's queue, claims each attempt, runs the handler and reports.
 *
 * <p>It consumes with {@code capacity} consumers and a prefetch of one each, and runs the handler
 * on the consumer's own thread, so at most {@code capacity} jobs run at once. Per delivery:
 *
 * <ol>
 *   <li>Read the work message; one that cannot be read becomes a dead-job record and is acked.
 *   <li>Claim the attempt in Redis (lease, fencing token, RUNNING). A refused claim is a duplicate
 *       or late delivery: ack it, count it, do not run it.
 *   <li>Ack the delivery: from here on the lease, not an unacked delivery, says who owns the job,
 *       so a long job never meets the broker's consumer timeout.
 *   <li>Run the handler while the lease is renewed every third of its TTL, reporting phases and
 *       progress; then publish SUCCEEDED or FAILED (retrying with backoff).
 * </ol>
 *
 * <p>An attempt whose renewal is refused has lost the job: its handler is interrupted and nothing
 * it reports any more is published. {@link #stop(Duration)} stops taking work, lets running jobs
 * finish within the grace period, and releases the leases of those that did not.
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

  /**
   * How long a consumer waits before handing back a delivery it could not claim because Redis
   * failed. Without the pause a short Redis outage would spin each message through the queue's
   * delivery limit in milliseconds and dead-letter jobs that are fine.
   */
  private static final Duration STORE_FAILURE_PAUSE = Duration.ofSeconds(1);

  private final WorkerSettings settings;
  private final JobStore store;
  private final Topology topology;
  private final ConfirmingPublisher publisher;
  private final WorkerRegistry registry;
  private final Clock clock;
  private final MeterRegistry meters;
  private final Map<String, JobHandler<?>> handlers = new HashMap<>();
  private final String queue;
  private final SimpleMessageListenerContainer container;
  private final ScheduledExecutorService scheduler;
  private final LeaseKeeper leases;
  private final Set<Attempt<?>> running = ConcurrentHashMap.newKeySet();
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
      JobStore store,
      Topology topology,
      ConfirmingPublisher publisher,
      ConnectionFactory connectionFactory,
      List<? extends JobHandler<?>> handlers,
      WorkerRegistry registry,
      Clock clock,
      MeterRegistry meters) {
    this.settings = settings;
    this.store = store;
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
            .description("attempts whose lease renewal was refused: another attempt owns the job")
            .register(meters);
    this.scheduler =
        Executors.newSingleThreadScheduledExecutor(
            r -> Thread.ofPlatform().name("shepherd-lease-renewal").daemon().unstarted(r));
    this.leases = new LeaseKeeper(store, scheduler, settings.leaseTtl(), leasesLost);
    this.container = new SimpleMessageListenerContainer(connectionFactory);
    container.setBeanName("shepherd-worker"); // names the consumer threads in thread dumps and logs
    container.setQueueNames(queue);
    container.setAcknowledgeMode(AcknowledgeMode.MANUAL);
    container.setConcurrentConsumers(settings.capacity());
    container.setPrefetchCount(1);
    // At the end of the grace the worker cancels its jobs itself (and releases their leases); the
    // container must not close the channels of consumers still running a job, since that
    // interrupts the handler behind the worker's back. (So no forceStop either: it closes them
    // too. What a stopping consumer still had prefetched is handed back by onMessage.)
    container.setForceCloseChannel(false);
    container.setMessageListener((ChannelAwareMessageListener) this::onMessage);
  }

  /** The settings this worker runs with. */
  public WorkerSettings settings() {
    return settings;
  }

  /** The job types this worker has handlers for. */
  public Set<String> jobTypes() {
    return Set.copyOf(handlers.keySet());
  }

  /** Announces the worker and starts consuming. */
  public void start() {
    if (stopped.get() || !started.compareAndSet(false, true)) {
      return;
    }
    beat();
    long every = Math.max(1, settings.heartbeat().toMillis());
    scheduler.scheduleAtFixedRate(this::beat, every, every, TimeUnit.MILLISECONDS);
    container.start();
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
    state = WorkerView.DRAINING;
    beat();
    log.info(
        "worker {} draining: {} running, grace {}", settings.workerId(), running.size(), grace);
    container.setShutdownTimeout(Math.max(1, grace.toMillis()));
    container.stop(); // returns once every consumer finished its job, or the grace ran out
    List<Attempt<?>> unfinished = List.copyOf(running);
    unfinished.forEach(a -> a.cancel("the worker stopped past its grace period"));
    if (!unfinished.isEmpty()) {
      releaseLeases(unfinished);
    }
    scheduler.shutdownNow();
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

  private void releaseLeases(List<Attempt<?>> unfinished) {
    try {
      List<ReapedLease> released =
          store.releaseLeasesOf(
              settings.workerId(), "worker stopped before the job finished its grace period");
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

  private void onMessage(Message message, Channel channel) throws IOException {
    consumed.increment();
    long tag = message.getMessageProperties().getDeliveryTag();
    if (stopped.get()) {
      channel.basicNack(tag, false, true); // draining: another worker takes it
      return;
    }
    ClaimedWork claimed;
    try {
      claimed = claim(message);
    } catch (RuntimeException e) {
      // Redis failed before the attempt was claimed: hand the delivery back, after a pause.
      log.warn("could not claim a work message; it will be delivered again: {}", e.toString());
      pause(STORE_FAILURE_PAUSE);
      channel.basicNack(tag, false, true);
      return;
    }
    try {
      channel.basicAck(tag, false);
    } catch (IOException | RuntimeException e) {
      // The claim holds: run the job anyway. A redelivery will be refused as a duplicate.
      log.warn("could not ack a claimed delivery; running the job anyway: {}", e.toString());
    }
    if (claimed != null) {
      run(claimed, trace(message));
    }
  }

  /** A claimed attempt, ready to run. */
  private record ClaimedWork(WorkMessage work, long fencingToken) {}

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
    if (store.partitionOf(work.jobId()) < 0) {
      recordUnreadable("work message names '" + work.jobId() + "', not a Shepherd job id", message);
      return null;
    }
    return switch (store.claim(
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
      case ClaimResult.Claimed c -> new ClaimedWork(work, c.fencingToken());
    };
  }

  private void recordUnreadable(String problem, Message message) {
    String raw = new String(message.getBody(), StandardCharsets.UTF_8);
    var dead = store.recordDead(null, null, problem, queue, raw);
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
        var attempt = attempt(claim, null, trace);
        finish(attempt, attempt.failed(Failure.noHandler(work.type(), settings.workerId())));
      } else {
        runWith(handler, claim, work, trace);
      }
    } finally {
      MDC.clear();
    }
  }

  private <P> void runWith(
      JobHandler<P> handler, Claim claim, WorkMessage work, TraceParent trace) {
    switch (PayloadBinding.bind(work.payload(), handler.payloadType())) {
      case PayloadBinding.Unbound<P> unbound -> {
        Attempt<P> attempt = attempt(claim, null, trace);
        finish(
            attempt,
            attempt.failed(Failure.unboundPayload(handler.payloadType(), unbound.problem())));
      }
      case PayloadBinding.Bound<P> bound -> {
        Attempt<P> attempt = attempt(claim, bound.payload(), trace);
        LeaseKeeper.Renewal renewal = leases.keep(attempt);
        boolean published = false;
        try {
          Instant began = clock.instant();
          StatusEvent outcome = execute(handler, attempt);
          Timer.builder(MetricNames.START_TO_FINISH)
              .tag(MetricNames.TAG_TYPE, work.type())
              .tag("outcome", outcome.eventName())
              .publishPercentileHistogram()
              .register(meters)
              .record(Duration.between(began, clock.instant()));
          // the lease is renewed while the outcome is published, and then until it is applied
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

  private <P> StatusEvent execute(JobHandler<P> handler, Attempt<P> attempt) {
    running.add(attempt);
    attempt.attach(Thread.currentThread());
    try {
      handler.handle(attempt);
      return attempt.succeeded();
    } catch (RetryableJobException | PermanentJobException e) {
      log.debug("handler of {} threw", attempt.claim(), e);
      return attempt.failed(Failure.of(e));
    } catch (Exception e) {
      // not a failure the handler declared: the stack trace is what its author needs
      log.warn("handler of {} threw {}", attempt.claim(), e.toString(), e);
      return attempt.failed(Failure.of(e));
    } catch (Error e) {
      // A handler's bug (a missing class, a stack overflow) must not kill the consumer thread and
      // leave the lease renewed forever: report it like any other failure.
      log.error("handler of {} failed with {}", attempt.claim(), e.toString(), e);
      return attempt.failed(Failure.of(e));
    } finally {
      attempt.detach();
      running.remove(attempt);
    }
  }

  /**
   * Publishes the outcome, retrying, unless the attempt was cancelled (its lease lost).
   *
   * @return true once the broker confirmed the outcome
   */
  private boolean finish(Attempt<?> attempt, StatusEvent outcome) {
    if (attempt.isCancelled()) {
      log.info(
          "{} ended after {}; its outcome is not reported",
          attempt.claim(),
          attempt.cancelledBecause());
      return false;
    }
    boolean published =
        OutcomePublisher.withDefaults(attempt::publishOutcome)
            .publish(outcome, () -> !attempt.isCancelled());
    if (published) {
      log.info("finished {}: {}", attempt.claim(), describe(outcome));
    } else if (attempt.isCancelled()) {
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

  private <P> Attempt<P> attempt(Claim claim, P payload, TraceParent trace) {
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
                .record(took));
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
