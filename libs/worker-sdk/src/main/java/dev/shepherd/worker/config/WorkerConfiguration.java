package dev.shepherd.worker.config;

import dev.shepherd.distribution.Distributor;
import dev.shepherd.engine.status.StatusApplier;
import dev.shepherd.messaging.ConfirmingPublisher;
import dev.shepherd.messaging.Topology;
import dev.shepherd.messaging.config.MessagingProperties;
import dev.shepherd.model.RetryPolicy;
import dev.shepherd.store.DeadJobs;
import dev.shepherd.store.Leases;
import dev.shepherd.store.Reports;
import dev.shepherd.store.WorkerRegistry;
import dev.shepherd.store.config.StoreProperties;
import dev.shepherd.worker.JobHandler;
import dev.shepherd.worker.RemoteReports;
import dev.shepherd.worker.WorkerRuntime;
import dev.shepherd.worker.WorkerSettings;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Metrics;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.springframework.amqp.core.Declarables;
import org.springframework.amqp.rabbit.connection.ConnectionFactory;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.context.event.ApplicationReadyEvent;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.ApplicationListener;
import org.springframework.context.SmartLifecycle;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * Builds the {@link WorkerRuntime} from every {@link JobHandler} bean, and from every job type
 * {@code shepherd.distribution.types} runs on a backend ({@link DistributionProperties}, checked at
 * start-up by {@link DistributedTypes}), with the {@code http} distributor and every {@link
 * Distributor} bean of the application (the worker service's {@code kubernetes-job} one). It starts
 * consuming once the application is ready (topology declared, every bean up) and drains first on
 * shutdown, before the Redis and broker connections close, so running jobs can finish and report
 * within the grace.
 *
 * <p>An application of your own takes {@code shepherd-spring-boot-starter-worker}, which imports it
 * with what it needs and sets publisher confirms. Without the starter, import it next to the store
 * and messaging configurations (they provide the leases and dead jobs of the store, the worker
 * registry, the clock, the topology and the publisher) and set {@code
 * spring.rabbitmq.publisher-confirm-type=correlated} and {@code publisher-returns=true}:
 *
 * <pre>{@code
 * @SpringBootApplication
 * @Import({StoreConfiguration.class, MessagingConfiguration.class, WorkerConfiguration.class})
 * public class MyWorker {
 *   @Bean
 *   JobHandler<ResizeRequest> resize() { return new ResizeHandler(); }
 * }
 * }</pre>
 */
@Configuration(proxyBeanMethods = false)
@EnableConfigurationProperties({
  WorkerProperties.class,
  DistributionProperties.class,
  ReportProperties.class
})
public class WorkerConfiguration {

  /** The mailboxes of the attempts this worker runs on a backend, filled by its control orders. */
  @Bean
  RemoteReports remoteReports() {
    return new RemoteReports();
  }

  @Bean
  WorkerRuntime workerRuntime(
      WorkerProperties worker,
      DistributionProperties distribution,
      RemoteReports remoteReports,
      StoreProperties store,
      Leases leases,
      DeadJobs deadJobs,
      Topology topology,
      ConfirmingPublisher publisher,
      ConnectionFactory connectionFactory,
      List<JobHandler<?>> handlers,
      WorkerRegistry registry,
      Clock clock,
      ObjectProvider<MeterRegistry> meters,
      ObjectProvider<Distributor> distributors,
      ReportProperties reports,
      ObjectProvider<Reports> reportStore,
      RetryPolicy retryPolicy) {
    var settings =
        new WorkerSettings(
            worker.id(),
            worker.pool(),
            worker.capacity(),
            store.leaseTtl(),
            worker.podName(),
            store.workerHeartbeat(),
            worker.outcomeHold(),
            worker.ackHold(),
            worker.cancelGrace(),
            worker.noHandlerPause(),
            worker.outcomePublishTries(),
            worker.outcomePublishBackoff(),
            worker.outcomePublishMaxBackoff(),
            worker.errorBackoff(),
            worker.errorMaxBackoff());
    var all = new ArrayList<JobHandler<?>>(handlers);
    all.addAll(
        DistributedTypes.handlers(
            distribution,
            remoteReports,
            DistributedTypes.httpClient(),
            distributors.orderedStream().toList(),
            clock,
            leases::recordTask));
    MeterRegistry meterRegistry = meters.getIfAvailable(() -> Metrics.globalRegistry);
    return new WorkerRuntime(
        settings,
        leases,
        deadJobs,
        topology,
        publisher,
        connectionFactory,
        all,
        remoteReports,
        registry,
        clock,
        meterRegistry,
        reports.direct()
            ? new StatusApplier(
                reportStore.getObject(),
                deadJobs,
                retryPolicy,
                new SplittableRandom(),
                meterRegistry,
                type -> worker.pool())
            : null);
  }

  /**
   * The worker's own pool queue, with the rest of the topology (ADR 35): a worker of a pool that
   * the configuration does not list receives its jobs all the same. The worker's slots bind its
   * types to it ({@link WorkerRuntime#typesRoutedHere}). Where the worker may not declare shared
   * names ({@code shepherd.messaging.declare-topology=false}, ADR 41), the scheduler declares the
   * queue, and the slots wait for it.
   */
  @Bean
  Declarables workerPoolDeclarables(
      Topology topology, MessagingProperties messaging, WorkerProperties worker) {
    return messaging.declareTopology()
        ? topology.poolDeclarables(worker.pool(), List.of())
        : new Declarables();
  }

  @Bean
  WorkerLifecycle workerLifecycle(WorkerRuntime runtime, WorkerProperties worker) {
    return new WorkerLifecycle(runtime, worker);
  }

  /**
   * Starts the runtime when the application is ready; drains it, with the grace, when the context
   * stops. Its phase is the default (highest), so it stops before the connection factories.
   */
  static final class WorkerLifecycle
      implements SmartLifecycle, ApplicationListener<ApplicationReadyEvent> {

    private final WorkerRuntime runtime;
    private final WorkerProperties worker;

    WorkerLifecycle(WorkerRuntime runtime, WorkerProperties worker) {
      this.runtime = runtime;
      this.worker = worker;
    }

    @Override
    public void onApplicationEvent(ApplicationReadyEvent event) {
      start();
    }

    @Override
    public boolean isAutoStartup() {
      return false; // not at refresh: only once the application is ready
    }

    @Override
    public void start() {
      runtime.start();
    }

    @Override
    public void stop() {
      runtime.stop(worker.shutdownGrace());
    }

    @Override
    public boolean isRunning() {
      return runtime.isRunning();
    }
  }
}
