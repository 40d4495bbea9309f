package dev.shepherd.recovery;

import dev.shepherd.engine.WorkLoop;
import dev.shepherd.engine.cancel.WorkerOrders;
import dev.shepherd.engine.recovery.BacklogGauges;
import dev.shepherd.engine.recovery.DeadLetterIntake;
import dev.shepherd.engine.recovery.IndexTrim;
import dev.shepherd.engine.recovery.KnownPools;
import dev.shepherd.engine.recovery.LeaseReaper;
import dev.shepherd.engine.recovery.LostWorkers;
import dev.shepherd.engine.recovery.StaleQueued;
import dev.shepherd.engine.recovery.Timeouts;
import dev.shepherd.engine.recovery.WorkQueueDepth;
import dev.shepherd.messaging.ConfirmingPublisher;
import dev.shepherd.messaging.InfrastructurePause;
import dev.shepherd.messaging.Listeners;
import dev.shepherd.messaging.Topology;
import dev.shepherd.messaging.config.MessagingConfiguration;
import dev.shepherd.model.RetryPolicy;
import dev.shepherd.store.DeadJobs;
import dev.shepherd.store.Indexes;
import dev.shepherd.store.JobQueries;
import dev.shepherd.store.LeaseRecovery;
import dev.shepherd.store.Outbox;
import dev.shepherd.store.WorkerRegistry;
import dev.shepherd.store.config.StoreConfiguration;
import dev.shepherd.store.config.StoreProperties;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.util.SplittableRandom;
import org.springframework.amqp.rabbit.connection.ConnectionFactory;
import org.springframework.amqp.rabbit.listener.SimpleMessageListenerContainer;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Import;

@SpringBootApplication
@Import({StoreConfiguration.class, MessagingConfiguration.class})
@EnableConfigurationProperties(RecoveryProperties.class)
public class RecoveryApplication {

  private static final org.slf4j.Logger log =
      org.slf4j.LoggerFactory.getLogger(RecoveryApplication.class);

  public static void main(String[] args) {
    SpringApplication.run(RecoveryApplication.class, args);
  }

  @Bean(initMethod = "start", destroyMethod = "close")
  WorkLoop leaseReaperLoop(
      LeaseRecovery recovery,
      JobQueries queries,
      RetryPolicy retryPolicy,
      MeterRegistry meters,
      RecoveryProperties properties,
      StoreProperties storeProperties) {
    var reaper =
        new LeaseReaper(
            recovery, retryPolicy, new SplittableRandom(), properties.reapBatchSize(), meters);
    return new WorkLoop(
        "lease-reaper",
        reaper::reapOnce,
        properties.reapInterval(),
        properties.errorBackoff(),
        settleAfterOutage(queries, storeProperties));
  }

  /**
   * Attempts past their startToClose or stall timeout end as retryable failures naming the timeout
   * (ADR 18). It settles after a Redis outage like the reaper: reports the outage kept from being
   * applied must not count as a stall.
   */
  @Bean(initMethod = "start", destroyMethod = "close")
  WorkLoop timeoutLoop(
      LeaseRecovery recovery,
      JobQueries queries,
      RetryPolicy retryPolicy,
      MeterRegistry meters,
      RecoveryProperties properties,
      StoreProperties storeProperties,
      Topology topology,
      ConfirmingPublisher publisher) {
    var timeouts =
        new Timeouts(
            recovery,
            retryPolicy,
            new SplittableRandom(),
            properties.reapBatchSize(),
            meters,
            new WorkerOrders(topology, publisher));
    return new WorkLoop(
        "timeouts",
        timeouts::timeOutOnce,
        properties.reapInterval(),
        properties.errorBackoff(),
        settleAfterOutage(queries, storeProperties));
  }

  /**
   * After Redis failed, the passes that judge workers by their leases wait until it takes writes
   * and then long enough for every worker to renew and mark its leases (a third of the TTL), beat
   * (its heartbeat) and for the status-tracker's paused consumer to retry (its longest backoff):
   * otherwise the first pass would take back leases that only the outage left unrenewed or
   * unmarked, and jobs whose outcome is already published would run again.
   */
  static WorkLoop.Settle settleAfterOutage(JobQueries queries, StoreProperties storeProperties) {
    Duration period = storeProperties.leaseTtl().dividedBy(3);
    for (Duration other :
        new Duration[] {
          storeProperties.workerHeartbeat(), InfrastructurePause.Backoff.DEFAULT.max()
        }) {
      period = other.compareTo(period) > 0 ? other : period;
    }
    return new WorkLoop.Settle(queries::acceptsWrites, period.plusSeconds(1));
  }

  /**
   * The pools recovery walks: the configured ones and those workers announce (ADR 35), read again
   * every few seconds.
   */
  @Bean
  KnownPools knownPools(Topology topology, WorkerRegistry registry, Clock clock) {
    return new KnownPools(
        topology.pools().keySet(), registry.jobTypes(), clock, Duration.ofSeconds(5));
  }

  @Bean
  LostWorkers lostWorkers(
      LeaseRecovery recovery,
      JobQueries queries,
      WorkerRegistry registry,
      KnownPools pools,
      Clock clock,
      MeterRegistry meters,
      RecoveryProperties properties) {
    BacklogGauges.register(queries, registry, pools, clock, meters);
    return new LostWorkers(recovery, registry, meters, clock, properties.overCapacityGrace());
  }

  /**
   * Workers whose heartbeat stopped lose their leases at once, not one TTL later; workers that hold
   * more than their capacity lose their oldest attempts.
   */
  @Bean(initMethod = "start", destroyMethod = "close")
  WorkLoop lostWorkerLoop(
      LostWorkers lostWorkers,
      JobQueries queries,
      RecoveryProperties properties,
      StoreProperties storeProperties) {
    return new WorkLoop(
        "lost-workers",
        () -> lostWorkers.releaseSilentWorkers() + lostWorkers.abandonOverCapacity(),
        properties.reapInterval(),
        properties.errorBackoff(),
        settleAfterOutage(queries, storeProperties));
  }

  /** Off Kubernetes the watch is off, and says so: leases of dead workers then wait for the TTL. */
  @Bean(destroyMethod = "close")
  AutoCloseable podWatch(RecoveryProperties properties, LostWorkers lostWorkers) {
    var settings = properties.podWatch();
    if (!settings.enabled()) {
      log.info(
          "Kubernetes pod watch is off (shepherd.recovery.pod-watch.enabled=false): leases of"
              + " workers that die are taken back when their TTL runs out");
      return () -> {};
    }
    KubernetesClient client = new KubernetesClientBuilder().build();
    var watch = new PodWatch(client, settings.namespace(), settings.selector(), lostWorkers);
    watch.start();
    return () -> {
      watch.close();
      client.close();
    };
  }

  /**
   * Start-up and periodic recovery of jobs dispatched but never started: at most as many as the
   * pool's work queue lacks messages for (the broker's count of ready messages, read with a passive
   * declare).
   */
  @Bean(initMethod = "start", destroyMethod = "close")
  WorkLoop staleQueuedLoop(
      Outbox outbox,
      JobQueries queries,
      KnownPools pools,
      ConnectionFactory connectionFactory,
      Topology topology,
      RecoveryProperties properties) {
    var stale =
        new StaleQueued(
            outbox,
            pools,
            properties.scheduleToStartTimeout(),
            properties.staleQueuedBatchSize(),
            queries,
            WorkQueueDepth.of(connectionFactory, topology));
    return new WorkLoop(
        "stale-queued",
        stale::requeueOnce,
        properties.staleQueuedInterval(),
        properties.housekeepingErrorBackoff());
  }

  /** Index entries of jobs and records that expired go, so Redis memory stays bounded. */
  @Bean(initMethod = "start", destroyMethod = "close")
  WorkLoop indexTrimLoop(
      Indexes indexes, WorkerRegistry registry, KnownPools pools, RecoveryProperties properties) {
    var trim = new IndexTrim(indexes, registry, pools, properties.trimBatchSize());
    // a pass goes through every index to its end, so the next waits for the interval even when
    // this one removed entries
    return new WorkLoop(
        "index-trim",
        () -> {
          trim.trimOnce();
          return 0;
        },
        properties.trimInterval(),
        properties.housekeepingErrorBackoff());
  }

  @Bean
  DeadLetterIntake deadLetterIntake(DeadJobs deadJobs, MeterRegistry meters) {
    return new DeadLetterIntake(deadJobs, meters);
  }

  @Bean(destroyMethod = "stop")
  SimpleMessageListenerContainer deadLetterListener(
      ConnectionFactory connectionFactory,
      Topology topology,
      DeadLetterIntake intake,
      RecoveryProperties properties) {
    return Listeners.manualAck(
        connectionFactory,
        topology.deadQueue(),
        1,
        properties.deadLetterPrefetch(),
        message -> intake.record(message.getBody(), message.getMessageProperties().getHeaders()));
  }
}
