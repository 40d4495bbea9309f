package dev.shepherd.worker.boot;

import dev.shepherd.messaging.config.MessagingConfiguration;
import dev.shepherd.store.config.StoreConfiguration;
import dev.shepherd.worker.config.WorkerConfiguration;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.context.annotation.Import;
import org.springframework.context.annotation.PropertySource;

/**
 * A Shepherd worker from the starter alone: the store, the topology and publisher, and the worker
 * runtime, which runs every {@code JobHandler} bean of the application. It also sets what the
 * runtime relies on and an application would not know to set: RabbitMQ publisher confirms
 * (correlated) and returns, and a 10 s AMQP heartbeat ({@code shepherd-worker-starter.properties},
 * below the application's own properties; a publisher without confirms refuses to start, saying
 * which setting to fix).
 *
 * <pre>{@code
 * @SpringBootApplication
 * public class ResizeWorker {
 *   public static void main(String[] args) { SpringApplication.run(ResizeWorker.class, args); }
 *
 *   @Bean
 *   JobHandler<ResizeRequest> resize() { return new ResizeHandler(); }
 * }
 * }</pre>
 *
 * with {@code spring.rabbitmq.*}, {@code spring.data.redis.*}, {@code shepherd.worker.pool} and
 * {@code shepherd.messaging.pools.<pool>} (the types of the pool) set for your installation.
 */
@AutoConfiguration
@Import({StoreConfiguration.class, MessagingConfiguration.class, WorkerConfiguration.class})
@PropertySource("classpath:shepherd-worker-starter.properties")
public class ShepherdWorkerAutoConfiguration {}
