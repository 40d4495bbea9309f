package dev.shepherd.scheduler;

import dev.shepherd.contracts.Contracts;
import dev.shepherd.distribution.http.CallbackSignatures;
import dev.shepherd.distribution.http.HttpCallbacks;
import dev.shepherd.engine.ScriptSignals;
import dev.shepherd.engine.WorkLoop;
import dev.shepherd.engine.await.JobWaiters;
import dev.shepherd.engine.callbacks.AttemptCallbacks;
import dev.shepherd.engine.cancel.Cancellations;
import dev.shepherd.engine.cancel.WorkerOrders;
import dev.shepherd.engine.dispatch.Dispatcher;
import dev.shepherd.engine.dispatch.OutboxGauges;
import dev.shepherd.engine.dispatch.WorkerPoolDistributor;
import dev.shepherd.engine.intake.AnnouncedTypes;
import dev.shepherd.engine.intake.JobTypeCatalog;
import dev.shepherd.engine.intake.SubmissionIntake;
import dev.shepherd.engine.intake.SubmitConsumer;
import dev.shepherd.messaging.ConfirmingPublisher;
import dev.shepherd.messaging.InfrastructurePause;
import dev.shepherd.messaging.Listeners;
import dev.shepherd.messaging.Topology;
import dev.shepherd.store.Cancels;
import dev.shepherd.store.DeadJobs;
import dev.shepherd.store.JobQueries;
import dev.shepherd.store.Outbox;
import dev.shepherd.store.Submissions;
import dev.shepherd.store.WorkerRegistry;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.time.Duration;
import org.springframework.amqp.rabbit.connection.ConnectionFactory;
import org.springframework.amqp.rabbit.listener.SimpleMessageListenerContainer;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.data.redis.connection.RedisConnectionFactory;

/**
 * Builds the intake, the dispatcher loop, cancellation and the AMQP submit and cancel listeners
 * from the properties.
 */
@Configuration(proxyBeanMethods = false)
class SchedulerWiring {

  @Bean
  Contracts contracts() {
    return new Contracts();
  }

  @Bean
  JobTypeCatalog jobTypeCatalog(
      Topology topology,
      SchedulerProperties properties,
      Contracts contracts,
      WorkerRegistry workers,
      Clock clock) {
    return new JobTypeCatalog(
            topology,
            properties.maxAttempts(),
            properties.defaultMaxAttempts(),
            properties.timeoutsByType(),
            properties.concurrencyLimits(),
            properties.typesThatBlockTheirKey(),
            properties.batches())
        .withAnnounced(
            new AnnouncedTypes(
                workers.jobTypes(),
                contracts,
                clock,
                properties.announcedTypeRetention(),
                ANNOUNCEMENT_REFRESH));
  }

  /** How stale the scheduler's view of one announced job type may be. */
  static final Duration ANNOUNCEMENT_REFRESH = Duration.ofSeconds(1);

  /**
   * {@code worker-pool}, the distributor every due attempt is handed out through: its work message
   * on the work exchange, claimed by a worker of the type's pool (ADR 48).
   */
  @Bean
  WorkerPoolDistributor workerPoolDistributor(
      Topology topology, ConfirmingPublisher publisher, JobQueries queries) {
    return new WorkerPoolDistributor(
        topology, publisher, queries, new WorkerOrders(topology, publisher));
  }

  /** The last window's confirms are marked when the scheduler stops (after the dispatch loop). */
  @Bean(destroyMethod = "flushMarks")
  Dispatcher dispatcher(
      Outbox outbox,
      JobQueries queries,
      Topology topology,
      ConfirmingPublisher publisher,
      SchedulerProperties properties,
      JobTypeCatalog catalog,
      Clock clock,
      MeterRegistry meters,
      AccessProperties access,
      dev.shepherd.engine.access.PolicySource policy,
      WorkerPoolDistributor workerPool) {
    OutboxGauges.register(queries, clock, meters);
    return new Dispatcher(
            outbox,
            topology,
            publisher,
            properties.dispatchBatchSize(),
            properties.dispatchVisibility(),
            properties.dispatchIdlePoll(),
            properties.dispatchUnconfirmedRetry(),
            properties.dispatchMarkWindow(),
            meters)
        .handingOutThrough(workerPool)
        .takingTypes(catalog::isKnown)
        // a job whose submitter's grant was revoked meanwhile is not handed out (ADR 40)
        .refusing(access.enabled() ? refusalsUnder(policy) : entry -> null);
  }

  private static java.util.function.Function<dev.shepherd.store.DueEntry, String> refusalsUnder(
      dev.shepherd.engine.access.PolicySource policy) {
    var refusals = new dev.shepherd.engine.access.DispatchRefusals(policy::current);
    return entry -> refusals.refusal(entry.submitter(), entry.type(), entry.pool());
  }

  @Bean(initMethod = "start", destroyMethod = "close")
  WorkLoop dispatchLoop(Dispatcher dispatcher, SchedulerProperties properties) {
    return new WorkLoop(
        "dispatch",
        dispatcher::dispatchNext,
        properties.dispatchIdlePoll(),
        properties.dispatchErrorBackoff());
  }

  /** Clients waiting for jobs' ends, told by the scripts' signals (issue 18, item 4). */
  @Bean(destroyMethod = "close")
  JobWaiters jobWaiters(JobQueries queries) {
    return new JobWaiters(queries);
  }

  /**
   * What the scripts announce: an ordering key's next job, or a freed concurrency slot's, is
   * dispatched at once (ADR 29 amendment); an awaited job's end goes to its waiters.
   */
  @Bean(initMethod = "start", destroyMethod = "close")
  ScriptSignals scriptSignals(
      RedisConnectionFactory connections,
      Outbox outbox,
      JobQueries queries,
      Dispatcher dispatcher,
      WorkLoop dispatchLoop,
      JobWaiters waiters) {
    return new ScriptSignals(connections)
        .on(
            outbox.wakeChannels(),
            jobId -> {
              dispatcher.markDirty(jobId);
              dispatchLoop.wakeUp();
            })
        .on(queries.finishedChannels(), waiters::finished);
  }

  @Bean
  SubmissionIntake submissionIntake(
      Contracts contracts,
      JobTypeCatalog catalog,
      Submissions submissions,
      Dispatcher dispatcher,
      WorkLoop dispatchLoop,
      MeterRegistry meters) {
    // a job due now is reserved in the call that stores it and handed to the dispatcher, which
    // publishes it without asking Redis for it again (ADR 24)
    return new SubmissionIntake(
        contracts,
        catalog,
        submissions,
        dispatcher.visibility(),
        accepted -> {
          if (accepted.reserved() != null) {
            dispatcher.handOver(accepted.reserved());
          } else {
            dispatcher.markDirty(accepted.jobId());
          }
          dispatchLoop.wakeUp();
        },
        meters);
  }

  /** AMQP submissions, taken in batches ({@link SubmitConsumer}). */
  @Bean(destroyMethod = "stop")
  SimpleMessageListenerContainer submitListener(
      ConnectionFactory connectionFactory,
      Topology topology,
      SubmissionIntake intake,
      DeadJobs deadJobs,
      SchedulerProperties properties,
      AccessProperties access,
      dev.shepherd.engine.access.PolicySource policy) {
    // who submits over AMQP: the broker-validated user_id, as the policy knows it (ADR 40)
    java.util.function.Function<String, SubmissionIntake.Submitter> submitterOf =
        !access.enabled()
            ? userId -> SubmissionIntake.Submitter.ANYONE
            : userId -> {
              if (userId == null) {
                return null;
              }
              var now = policy.current();
              return SubmissionIntake.Submitter.of(now.brokerUser(userId), now.policy());
            };
    return new SubmitConsumer(intake, deadJobs, topology, submitterOf)
        .container(
            connectionFactory,
            properties.submitConsumers(),
            properties.submitPrefetch(),
            new Listeners.Batch(properties.submitBatchSize(), properties.submitBatchWait()),
            InfrastructurePause.Backoff.DEFAULT);
  }

  /**
   * The callbacks of services that run attempts (ADR 45), when a server key is configured: checked
   * against the attempt Redis holds, then handed to the worker that holds it.
   */
  @Bean
  @ConditionalOnProperty("shepherd.distribution.server-key")
  AttemptCallbacks attemptCallbacks(
      CallbackProperties properties,
      JobQueries queries,
      Topology topology,
      ConfirmingPublisher publisher,
      MeterRegistry meters) {
    return new AttemptCallbacks(
        queries,
        new HttpCallbacks(
            new CallbackSignatures(
                properties.serverKeyBytes(), properties.callbackTolerance(), Clock.systemUTC())),
        new WorkerOrders(topology, publisher),
        meters);
  }

  @Bean
  Cancellations cancellations(
      Cancels cancels,
      JobQueries queries,
      DeadJobs deadJobs,
      Topology topology,
      ConfirmingPublisher publisher,
      MeterRegistry meters) {
    return new Cancellations(
        cancels, queries, deadJobs, new WorkerOrders(topology, publisher), meters);
  }

  /**
   * AMQP cancel requests (the control exchange, routing key {@code cancel}): one that cannot be
   * read or names no job becomes a dead-job record with the reason, and is acked.
   */
  @Bean(destroyMethod = "stop")
  SimpleMessageListenerContainer cancelListener(
      ConnectionFactory connectionFactory,
      Topology topology,
      Cancellations cancellations,
      SchedulerProperties properties,
      AccessProperties access,
      dev.shepherd.engine.access.PolicySource policy,
      JobQueries queries) {
    // a cancel request is its broker-validated user's, checked as a REST cancel is (ADR 40)
    java.util.function.BiFunction<String, String, Cancellations.Verdict> authorize =
        !access.enabled()
            ? (userId, jobId) -> Cancellations.Verdict.ANYONE
            : (userId, jobId) -> {
              if (userId == null) {
                return new Cancellations.Verdict(
                    "unauthenticated: the cancel request names no user_id", null);
              }
              var now = policy.current();
              var caller = now.brokerUser(userId);
              var owner = queries.owner(jobId).orElse(null);
              if (owner == null || !caller.sees(owner.tenant())) {
                // another tenant's job is not there for this user
                return new Cancellations.Verdict(
                    "cancel request names no job '" + jobId + "'", null);
              }
              if (!now.policy()
                  .allows(caller, dev.shepherd.engine.access.Operation.CANCEL, owner.type())) {
                return new Cancellations.Verdict(
                    "forbidden: " + userId + " may not cancel jobs of type '" + owner.type() + "'",
                    null);
              }
              return new Cancellations.Verdict(null, caller.name());
            };
    return Listeners.manualAck(
        connectionFactory,
        topology.cancelQueue(),
        1,
        properties.cancelPrefetch(),
        message ->
            cancellations.apply(
                message.getBody(),
                topology.cancelQueue(),
                message.getMessageProperties().getReceivedUserId(),
                authorize));
  }
}
