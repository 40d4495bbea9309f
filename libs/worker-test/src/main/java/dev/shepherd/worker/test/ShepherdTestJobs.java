package dev.shepherd.worker.test;

import dev.shepherd.contracts.Contracts;
import dev.shepherd.engine.WorkLoop;
import dev.shepherd.engine.dispatch.Dispatcher;
import dev.shepherd.engine.intake.AnnouncedTypes;
import dev.shepherd.engine.intake.IntakeResult;
import dev.shepherd.engine.intake.JobTypeCatalog;
import dev.shepherd.engine.intake.SubmissionIntake;
import dev.shepherd.engine.status.StatusApplier;
import dev.shepherd.messaging.ConfirmingPublisher;
import dev.shepherd.messaging.InfrastructurePause;
import dev.shepherd.messaging.Listeners;
import dev.shepherd.messaging.Topology;
import dev.shepherd.model.JobSubmission;
import dev.shepherd.model.JobView;
import dev.shepherd.model.Json;
import dev.shepherd.model.RetryPolicy;
import dev.shepherd.store.DeadJobs;
import dev.shepherd.store.JobQueries;
import dev.shepherd.store.Outbox;
import dev.shepherd.store.Reports;
import dev.shepherd.store.Submissions;
import dev.shepherd.store.WorkerRegistry;
import dev.shepherd.store.config.StoreProperties;
import dev.shepherd.testsupport.RabbitCleanup;
import dev.shepherd.testsupport.RedisCleanup;
import dev.shepherd.worker.config.WorkerProperties;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.springframework.amqp.rabbit.connection.ConnectionFactory;
import org.springframework.amqp.rabbit.listener.SimpleMessageListenerContainer;
import org.springframework.context.SmartLifecycle;
import org.springframework.data.redis.connection.RedisConnectionFactory;

/**
 * Jobs for a {@link ShepherdWorkerTest}: submitted through the scheduler's own intake (the job
 * types the worker announces, validated against their announced schemas), published by the
 * scheduler's own dispatcher, and their reports applied by the status tracker's own applier, all in
 * the test's JVM against the real broker and Redis. Retries, dead jobs and timeouts behave as in
 * production; recovery's passes (lost leases, stale jobs) do not run. Everything under the test's
 * prefix is deleted when the context closes.
 */
public final class ShepherdTestJobs implements SmartLifecycle {

  private final SubmissionIntake intake;
  private final JobQueries queries;
  private final WorkLoop dispatch;
  private final SimpleMessageListenerContainer statusListener;
  private final Topology topology;
  private final String pool;
  private final String prefix;
  private final ConnectionFactory rabbit;
  private final RedisConnectionFactory redis;
  private volatile boolean running = true;

  ShepherdTestJobs(
      Submissions submissions,
      Outbox outbox,
      Reports reports,
      DeadJobs deadJobs,
      JobQueries queries,
      RetryPolicy retryPolicy,
      Topology topology,
      ConfirmingPublisher publisher,
      ConnectionFactory rabbit,
      RedisConnectionFactory redis,
      WorkerRegistry workers,
      WorkerProperties worker,
      StoreProperties store,
      Clock clock) {
    var meters = new SimpleMeterRegistry();
    var catalog =
        new JobTypeCatalog(topology, java.util.Map.of(), 3)
            .withAnnounced(
                new AnnouncedTypes(
                    workers.jobTypes(),
                    Contracts.shared(),
                    clock,
                    Duration.ofDays(1),
                    Duration.ZERO));
    var dispatcher =
        new Dispatcher(outbox, topology, publisher, 200, Duration.ofSeconds(30), meters)
            .takingTypes(catalog::isKnown);
    this.dispatch =
        new WorkLoop(
            "shepherd-test-dispatch",
            dispatcher::dispatchNext,
            Duration.ofMillis(100),
            Duration.ofMillis(500));
    this.intake =
        new SubmissionIntake(
            Contracts.shared(),
            catalog,
            submissions,
            jobId -> {
              dispatcher.markDirty(jobId);
              dispatch.wakeUp();
            },
            meters);
    var applier =
        new StatusApplier(
            reports,
            deadJobs,
            retryPolicy,
            new SplittableRandom(),
            meters,
            AnnouncedTypes.poolOfType(topology, workers.jobTypes(), clock));
    this.statusListener =
        Listeners.manualAckBatches(
            rabbit,
            topology.statusQueue(),
            50,
            new Listeners.Batch(50, Duration.ofMillis(5)),
            InfrastructurePause.Backoff.DEFAULT,
            message -> applier.apply(message.getBody(), topology.statusQueue()));
    this.queries = queries;
    this.topology = topology;
    this.pool = worker.pool();
    this.prefix = store.prefix();
    this.rabbit = rabbit;
    this.redis = redis;
    // the application's RabbitAdmin declares the topology on its first connection, which may come
    // after this listener's: declare it now
    RabbitCleanup.declare(rabbit, topology.declarables());
    dispatch.start();
    statusListener.start();
  }

  /**
   * Submits a job of {@code type} with {@code payload} (any object Jackson writes as JSON: a
   * record, a map, a {@code JsonNode}); returns its id.
   *
   * @throws IllegalArgumentException when the scheduler would refuse it (an unknown type, a payload
   *     its schema refuses), with the problem's detail
   */
  public String submit(String type, Object payload) {
    return submit(JobSubmission.of(type, Json.mapper().valueToTree(payload)));
  }

  /** Submits a whole submission (idempotency key, ordering key, timeouts, attempts). */
  public String submit(JobSubmission submission) {
    IntakeResult result = intake.submit(Json.mapper().valueToTree(submission), null);
    return switch (result) {
      case IntakeResult.Accepted accepted -> accepted.receipt().jobId();
      case IntakeResult.Duplicate duplicate -> duplicate.receipt().jobId();
      case IntakeResult.Rejected rejected ->
          throw new IllegalArgumentException(rejected.problem() + ": " + rejected.detail());
    };
  }

  /** The job as the scheduler would show it now. */
  public JobView get(String jobId) {
    return queries.find(jobId).orElseThrow(() -> new IllegalArgumentException("no job " + jobId));
  }

  /**
   * Waits until the job ended (SUCCEEDED, DEAD or CANCELLED) and returns it.
   *
   * @throws AssertionError when it has not ended within {@code timeout}, with its state then
   */
  public JobView await(String jobId, Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      JobView job = get(jobId);
      if (job.state().isTerminal()) {
        return job;
      }
      if (System.nanoTime() > deadline) {
        throw new AssertionError(
            "job " + jobId + " did not end within " + timeout + "; it is " + job.state());
      }
      LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(20));
    }
  }

  /** Submits a job and waits up to 30 seconds for its end. */
  public JobView run(String type, Object payload) {
    return await(submit(type, payload), Duration.ofSeconds(30));
  }

  /** Started with the bean. */
  @Override
  public void start() {}

  /**
   * Stops dispatching and applying, then deletes everything under the test's prefix: after the
   * worker drained (its phase is higher), before the Redis and broker connections close.
   */
  @Override
  public void stop() {
    if (!running) {
      return;
    }
    running = false;
    dispatch.close();
    statusListener.stop();
    try {
      RedisCleanup.deleteByPrefix(redis, prefix);
    } finally {
      List<String> queues = new ArrayList<>(topology.queueNames());
      queues.add(topology.workQueue(pool));
      RabbitCleanup.delete(rabbit, queues, topology.exchangeNames());
    }
  }

  @Override
  public boolean isRunning() {
    return running;
  }

  @Override
  public int getPhase() {
    return SmartLifecycle.DEFAULT_PHASE - 1;
  }
}
