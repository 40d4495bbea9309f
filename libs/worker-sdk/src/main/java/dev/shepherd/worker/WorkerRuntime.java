package dev.shepherd.worker;

import dev.shepherd.messaging.ConfirmingPublisher;
import dev.shepherd.messaging.OutgoingMessage;
import dev.shepherd.messaging.PublishException;
import dev.shepherd.messaging.Topology;
import dev.shepherd.model.Json;
import dev.shepherd.model.MetricNames;
import dev.shepherd.model.StatusEvent;
import dev.shepherd.model.TraceParent;
import dev.shepherd.model.WorkMessage;
import dev.shepherd.model.WorkerView;
import dev.shepherd.store.ClaimResult;
import dev.shepherd.store.JobStore;
import dev.shepherd.store.WorkerRegistry;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;
import org.springframework.amqp.core.AcknowledgeMode;
import org.springframework.amqp.core.Message;
import org.springframework.amqp.rabbit.connection.ConnectionFactory;
import org.springframework.amqp.rabbit.listener.SimpleMessageListenerContainer;
import org.springframework.amqp.rabbit.listener.api.ChannelAwareMessageListener;
import tools.jackson.core.JacksonException;

/**
 * A worker: consumes its pool's queue with {@code capacity} consumers and a prefetch of one, claims
 * each attempt before acking its delivery, runs the handler on the consumer's thread (so at most
 * {@code capacity} jobs run at once), renews the lease every third of its TTL, and reports phases,
 * progress and the outcome. An attempt whose lease renewal is refused has lost the job: its handler
 * is interrupted and nothing it reports any more is published.
 *
 * <pre>{@code
 * var runtime = new WorkerRuntime(settings, store, topology, publisher, connections,
 *     List.of(new Noop()), Clock.systemUTC(), meters);
 * runtime.start();
 * }</pre>
 */
public final class WorkerRuntime implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(WorkerRuntime.class);
  private static final int TERMINAL_PUBLISH_TRIES = 5;

  private final WorkerSettings settings;
  private final JobStore store;
  private final Topology topology;
  private final ConfirmingPublisher publisher;
  private final Clock clock;
  private final Map<String, JobHandler<?>> handlers = new HashMap<>();
  private final SimpleMessageListenerContainer container;
  private final ScheduledExecutorService renewals;
  private final Set<Attempt<?>> running = ConcurrentHashMap.newKeySet();
  private final Counter duplicates;
  private final Counter leasesLost;
  private final Counter unreadable;
  private final MeterRegistry meters;
  private final WorkerRegistry registry;
  private final java.time.Instant startedAt;
  private volatile String state = WorkerView.ACTIVE;
  private ScheduledFuture<?> heartbeat;

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
    this.registry = registry;
    this.startedAt = clock.instant();
    this.settings = settings;
    this.store = store;
    this.topology = topology;
    this.publisher = publisher;
    this.clock = clock;
    this.meters = meters;
    for (JobHandler<?> handler : handlers) {
      if (this.handlers.put(handler.type(), handler) != null) {
        throw new IllegalArgumentException("two handlers for job type " + handler.type());
      }
    }
    this.duplicates =
        Counter.builder(MetricNames.DUPLICATE_DELIVERIES)
            .description("deliveries acked without running: the attempt was held or finished")
            .register(meters);
    this.leasesLost =
        Counter.builder(MetricNames.LEASES_LOST)
            .description("attempts whose lease renewal was refused: another attempt owns the job")
            .register(meters);
    this.unreadable =
        Counter.builder(MetricNames.UNREADABLE_MESSAGES)
            .tag("source", "work")
            .description("work messages that could not be read and became dead-job records")
            .register(meters);
    this.renewals =
        Executors.newSingleThreadScheduledExecutor(
            r -> Thread.ofPlatform().name("shepherd-lease-renewal").daemon().unstarted(r));
    this.container = new SimpleMessageListenerContainer(connectionFactory);
    container.setQueueNames(topology.workQueue(settings.pool()));
    container.setAcknowledgeMode(AcknowledgeMode.MANUAL);
    container.setConcurrentConsumers(settings.capacity());
    container.setPrefetchCount(1);
    container.setDefaultRequeueRejected(true);
    container.setMessageListener(
        (ChannelAwareMessageListener)
            (message, channel) -> {
              long tag = message.getMessageProperties().getDeliveryTag();
              Runnable ack =
                  () -> {
                    try {
                      channel.basicAck(tag, false);
                    } catch (java.io.IOException e) {
                      throw new java.io.UncheckedIOException(e);
                    }
                  };
              try {
                onDelivery(message, ack);
              } catch (RuntimeException e) {
                // Redis or the broker failed before the claim was acked: let the delivery come
                // back.
                log.warn(
                    "could not take a work message, it will be delivered again: {}", e.toString());
                channel.basicNack(tag, false, true);
              }
            });
  }

  public WorkerSettings settings() {
    return settings;
  }

  public void start() {
    beat();
    long every = Math.max(1, settings.heartbeat().toMillis());
    heartbeat = renewals.scheduleAtFixedRate(this::beat, every, every, TimeUnit.MILLISECONDS);
    container.start();
    log.info(
        "worker {} consuming {} with capacity {} (lease TTL {}), handlers {}",
        settings.workerId(),
        topology.workQueue(settings.pool()),
        settings.capacity(),
        settings.leaseTtl(),
        handlers.keySet());
  }

  /** Stops taking work and waits up to {@code grace} for running jobs to finish. */
  public void stop(Duration grace) {
    state = WorkerView.DRAINING;
    beat();
    container.setShutdownTimeout(grace.toMillis());
    container.stop();
    running.forEach(Attempt::cancel);
    renewals.shutdownNow();
    try {
      registry.remove(settings.workerId());
    } catch (RuntimeException e) {
      log.warn(
          "could not remove worker {} from the registry: {}", settings.workerId(), e.toString());
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
      return java.net.InetAddress.getLocalHost().getHostName();
    } catch (java.io.IOException e) {
      return "unknown";
    }
  }

  @Override
  public void close() {
    stop(Duration.ofSeconds(10));
  }

  /** How many attempts run right now. */
  public int runningCount() {
    return running.size();
  }

  private void onDelivery(Message message, Runnable ack) {
    WorkMessage work;
    try {
      work = Json.mapper().readValue(message.getBody(), WorkMessage.class);
      if (work.jobId() == null || work.type() == null || work.attempt() < 1) {
        throw new IllegalArgumentException("jobId, type and attempt >= 1 are required");
      }
    } catch (JacksonException | IllegalArgumentException e) {
      unreadable.increment();
      store.recordDead(
          null,
          null,
          "unreadable work message: "
              + (e instanceof JacksonException j ? j.getOriginalMessage() : e.getMessage()),
          topology.workQueue(settings.pool()),
          new String(message.getBody(), StandardCharsets.UTF_8));
      ack.run();
      return;
    }
    ClaimResult claim =
        store.claim(work.jobId(), work.attempt(), settings.workerId(), settings.leaseTtl());
    switch (claim) {
      case ClaimResult.Refused refused -> {
        duplicates.increment();
        log.debug(
            "duplicate delivery of job {} attempt {}: {}", work.jobId(), work.attempt(), refused);
        ack.run();
      }
      case ClaimResult.Claimed claimed -> {
        ack.run();
        String pool = settings.pool();
        meters
            .counter(
                MetricNames.JOBS_CLAIMED,
                MetricNames.TAG_TYPE,
                work.type(),
                MetricNames.TAG_POOL,
                pool)
            .increment();
        if (work.submittedAt() != null) {
          Timer.builder(MetricNames.SUBMIT_TO_START)
              .tag(MetricNames.TAG_TYPE, work.type())
              .publishPercentileHistogram()
              .register(meters)
              .record(Duration.between(work.submittedAt(), clock.instant()));
        }
        run(work, claimed.fencingToken(), trace(message));
      }
    }
  }

  private void run(WorkMessage work, long token, TraceParent trace) {
    JobHandler<?> handler = handlers.get(work.type());
    MDC.put("jobId", work.jobId());
    MDC.put("attempt", Integer.toString(work.attempt()));
    MDC.put("workerId", settings.workerId());
    MDC.put("fencingToken", Long.toString(token));
    MDC.put("traceId", trace.traceId());
    try {
      log.info(
          "claimed job {} ({}) attempt {} with token {}",
          work.jobId(),
          work.type(),
          work.attempt(),
          token);
      StatusEvent outcome;
      Attempt<?> attempt;
      if (handler == null) {
        attempt = attempt(work, token, null, trace);
        outcome =
            attempt.failed(
                "no handler for job type '" + work.type() + "' at worker " + settings.workerId(),
                false);
        finish(attempt, outcome, null);
        return;
      }
      attempt = bindAndCreate(handler, work, token, trace);
      if (attempt == null) {
        return;
      }
      ScheduledFuture<?> renewal = keepLease(attempt);
      java.time.Instant claimedAt = clock.instant();
      try {
        outcome = execute(handler, attempt);
      } finally {
        Thread.interrupted(); // an interrupt meant for the handler must not break the reporting
      }
      Timer.builder(MetricNames.START_TO_FINISH)
          .tag(MetricNames.TAG_TYPE, work.type())
          .tag("outcome", outcome.eventName())
          .publishPercentileHistogram()
          .register(meters)
          .record(Duration.between(claimedAt, clock.instant()));
      finish(attempt, outcome, renewal);
    } finally {
      MDC.clear();
    }
  }

  private <P> Attempt<P> attempt(WorkMessage work, long token, P payload, TraceParent trace) {
    return new Attempt<>(
        work.jobId(),
        work.type(),
        work.attempt(),
        token,
        settings.workerId(),
        payload,
        clock,
        event -> publish(event, trace),
        (phase, took) ->
            Timer.builder(MetricNames.PHASE_DURATION)
                .tag(MetricNames.TAG_TYPE, work.type())
                .tag("phase", phase)
                .publishPercentileHistogram()
                .register(meters)
                .record(took));
  }

  private <P> Attempt<P> bindAndCreate(
      JobHandler<P> handler, WorkMessage work, long token, TraceParent trace) {
    P payload;
    try {
      payload = Json.mapper().treeToValue(work.payload(), handler.payloadType());
    } catch (JacksonException e) {
      Attempt<P> attempt = attempt(work, token, null, trace);
      finish(
          attempt,
          attempt.failed(
              "payload does not fit "
                  + handler.payloadType().getSimpleName()
                  + ": "
                  + e.getOriginalMessage(),
              false),
          null);
      return null;
    }
    return attempt(work, token, payload, trace);
  }

  private <P> StatusEvent execute(JobHandler<P> handler, Attempt<?> raw) {
    @SuppressWarnings("unchecked")
    Attempt<P> attempt = (Attempt<P>) raw;
    attempt.runOn(Thread.currentThread());
    running.add(attempt);
    try {
      handler.handle(attempt);
      return attempt.succeeded();
    } catch (PermanentJobException e) {
      return attempt.failed(e.getMessage(), false);
    } catch (Exception e) {
      return attempt.failed(describe(e), true);
    } catch (Error e) {
      // An OutOfMemoryError or StackOverflowError in one handler must not take the consumer down.
      return attempt.failed(describe(e), true);
    } finally {
      attempt.runOn(null);
      running.remove(attempt);
    }
  }

  private static String describe(Throwable e) {
    String message = e.getMessage();
    return message == null ? e.getClass().getName() : message;
  }

  private ScheduledFuture<?> keepLease(Attempt<?> attempt) {
    long every = Math.max(1, settings.renewEvery().toMillis());
    return renewals.scheduleAtFixedRate(
        () -> {
          if (attempt.isCancelled()) {
            return;
          }
          try {
            if (!store.renew(attempt.jobId(), attempt.fencingToken(), settings.leaseTtl())) {
              leasesLost.increment();
              log.warn(
                  "lost the lease of job {} attempt {} (token {}): stopping its handler",
                  attempt.jobId(),
                  attempt.attempt(),
                  attempt.fencingToken());
              attempt.cancel();
            }
          } catch (RuntimeException e) {
            // Redis unreachable: keep trying; the lease runs out by itself if this lasts a TTL.
            log.warn("could not renew the lease of job {}: {}", attempt.jobId(), e.toString());
          }
        },
        every,
        every,
        TimeUnit.MILLISECONDS);
  }

  /** Publishes the outcome, retrying while the lease is kept; gives up and lets the lease lapse. */
  private void finish(Attempt<?> attempt, StatusEvent outcome, ScheduledFuture<?> renewal) {
    try {
      if (attempt.isCancelled()) {
        log.info(
            "job {} attempt {} ended after losing its lease; not reporting",
            attempt.jobId(),
            attempt.attempt());
        return;
      }
      for (int tries = 1; tries <= TERMINAL_PUBLISH_TRIES; tries++) {
        try {
          attempt.reportOutcome(outcome);
          log.info(
              "job {} attempt {} finished: {}",
              attempt.jobId(),
              attempt.attempt(),
              outcome.eventName());
          meters.counter("shepherd.worker.jobs", "outcome", outcome.eventName()).increment();
          return;
        } catch (PublishException e) {
          log.warn(
              "could not publish {} of job {} (try {}): {}",
              outcome.eventName(),
              attempt.jobId(),
              tries,
              e.getMessage());
          try {
            Thread.sleep(Duration.ofMillis(200L * tries)); // backoff between publish retries
          } catch (InterruptedException interrupted) {
            Thread.currentThread().interrupt();
            return;
          }
        }
      }
      log.error(
          "gave up publishing {} of job {}; its lease will expire and it runs again",
          outcome.eventName(),
          attempt.jobId());
    } finally {
      if (renewal != null) {
        renewal.cancel(false);
      }
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
}
