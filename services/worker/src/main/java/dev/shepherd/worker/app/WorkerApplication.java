package dev.shepherd.worker.app;

import dev.shepherd.messaging.config.MessagingConfiguration;
import dev.shepherd.store.config.StoreConfiguration;
import dev.shepherd.worker.config.WorkerConfiguration;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Import;

/**
 * The worker service: the store, the topology and the worker runtime, with the demo handlers of
 * this package as its {@code JobHandler} beans.
 */
@SpringBootApplication
@Import({StoreConfiguration.class, MessagingConfiguration.class, WorkerConfiguration.class})
@EnableConfigurationProperties(DemoProperties.class)
public class WorkerApplication {

  public static void main(String[] args) {
    SpringApplication.run(WorkerApplication.class, args);
  }
}
