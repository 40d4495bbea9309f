package dev.shepherd.messaging.config;

import dev.shepherd.messaging.ConfirmingPublisher;
import dev.shepherd.messaging.Topology;
import io.micrometer.core.instrument.MeterRegistry;
import org.springframework.amqp.core.Declarables;
import org.springframework.amqp.rabbit.connection.ConnectionFactory;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * The topology and the confirming publisher as Spring beans. Every service imports this, so every
 * service declares the same topology (declaring is idempotent) and none names a queue itself;
 * unless {@code shepherd.messaging.declare-topology} is false, where the service's broker user may
 * not configure shared names and the scheduler declares them (ADR 41).
 */
@Configuration(proxyBeanMethods = false)
@EnableConfigurationProperties(MessagingProperties.class)
public class MessagingConfiguration {

  @Bean
  Topology topology(MessagingProperties properties) {
    return properties.topology();
  }

  /** The shared topology, or nothing where another service declares it. */
  @Bean
  Declarables shepherdDeclarables(Topology topology, MessagingProperties properties) {
    return properties.declareTopology() ? topology.declarables() : new Declarables();
  }

  @Bean
  ConfirmingPublisher confirmingPublisher(
      ConnectionFactory connectionFactory,
      MessagingProperties properties,
      ObjectProvider<MeterRegistry> meters) {
    // an application without Spring Boot's actuator has no registry: the global one counts
    return new ConfirmingPublisher(
        connectionFactory,
        properties.confirmTimeout(),
        meters.getIfAvailable(() -> io.micrometer.core.instrument.Metrics.globalRegistry));
  }
}
