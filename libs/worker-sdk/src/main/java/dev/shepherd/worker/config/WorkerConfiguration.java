package dev.shepherd.worker.config;

import dev.shepherd.messaging.ConfirmingPublisher;
import dev.shepherd.messaging.Topology;
import dev.shepherd.store.JobStore;
import dev.shepherd.store.WorkerRegistry;
import dev.shepherd.store.config.StoreProperties;
import dev.shepherd.worker.JobHandler;
import dev.shepherd.worker.WorkerRuntime;
import dev.shepherd.worker.WorkerSettings;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.util.List;
import org.springframework.amqp.rabbit.connection.ConnectionFactory;
import org.springframework.boot.context.event.ApplicationReadyEvent;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.event.EventListener;

/**
 * Builds the worker runtime from every {@link JobHandler} bean. It starts consuming once the
 * application is ready (topology declared, health up) and stops with the context.
 */
@Configuration(proxyBeanMethods = false)
@EnableConfigurationProperties(WorkerProperties.class)
public class WorkerConfiguration {

  @Bean(destroyMethod = "")
  WorkerRuntime workerRuntime(
      WorkerProperties worker,
      StoreProperties store,
      JobStore jobStore,
      Topology topology,
      ConfirmingPublisher publisher,
      ConnectionFactory connectionFactory,
      List<JobHandler<?>> handlers,
      WorkerRegistry registry,
      Clock clock,
      MeterRegistry meters) {
    var settings =
        new WorkerSettings(
            worker.id(),
            worker.pool(),
            worker.capacity(),
            store.leaseTtl(),
            worker.podName(),
            store.workerHeartbeat());
    return new WorkerRuntime(
        settings,
        jobStore,
        topology,
        publisher,
        connectionFactory,
        handlers,
        registry,
        clock,
        meters);
  }

  @Bean
  WorkerLifecycle workerLifecycle(WorkerRuntime runtime, WorkerProperties worker) {
    return new WorkerLifecycle(runtime, worker);
  }

  /** Starts the runtime when the application is ready; stops it, with the grace, on shutdown. */
  static final class WorkerLifecycle implements AutoCloseable {

    private final WorkerRuntime runtime;
    private final WorkerProperties worker;

    WorkerLifecycle(WorkerRuntime runtime, WorkerProperties worker) {
      this.runtime = runtime;
      this.worker = worker;
    }

    @EventListener(ApplicationReadyEvent.class)
    public void start() {
      runtime.start();
    }

    @Override
    public void close() {
      runtime.stop(worker.shutdownGrace());
    }
  }
}
