package dev.shepherd.store.config;

import dev.shepherd.model.RetryPolicy;
import dev.shepherd.store.Cancels;
import dev.shepherd.store.DeadJobs;
import dev.shepherd.store.Indexes;
import dev.shepherd.store.JobQueries;
import dev.shepherd.store.LeaseRecovery;
import dev.shepherd.store.Leases;
import dev.shepherd.store.Outbox;
import dev.shepherd.store.Reports;
import dev.shepherd.store.Retries;
import dev.shepherd.store.Store;
import dev.shepherd.store.Submissions;
import dev.shepherd.store.WorkerRegistry;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Metrics;
import java.time.Clock;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.annotation.Qualifier;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.data.redis.connection.RedisConnectionFactory;
import org.springframework.data.redis.core.StringRedisTemplate;

/**
 * Each store type as its own bean, so every component asks for the one it uses, plus the worker
 * registry, the clock and the retry policy, for every service. The {@link Store} they come from is
 * a bean only by name: it is not injected by type.
 */
@Configuration(proxyBeanMethods = false)
@EnableConfigurationProperties(StoreProperties.class)
public class StoreConfiguration {

  private static final String STORE = "shepherdStore";

  @Bean
  Clock clock() {
    return Clock.systemUTC();
  }

  /** Script calls count on the application's registry, or the global one when it has none. */
  @Bean(name = STORE, defaultCandidate = false)
  Store shepherdStore(
      RedisConnectionFactory connections,
      StoreProperties properties,
      Clock clock,
      ObjectProvider<MeterRegistry> meters) {
    return Store.of(
        new StringRedisTemplate(connections),
        properties.settings(),
        clock,
        meters.getIfAvailable(() -> Metrics.globalRegistry));
  }

  @Bean
  Submissions submissions(@Qualifier(STORE) Store store) {
    return store.submissions();
  }

  @Bean
  Outbox outbox(@Qualifier(STORE) Store store) {
    return store.outbox();
  }

  @Bean
  Leases leases(@Qualifier(STORE) Store store) {
    return store.leases();
  }

  @Bean
  Reports reports(@Qualifier(STORE) Store store) {
    return store.reports();
  }

  @Bean
  Cancels cancels(@Qualifier(STORE) Store store) {
    return store.cancels();
  }

  @Bean
  Retries retries(@Qualifier(STORE) Store store) {
    return store.retries();
  }

  @Bean
  LeaseRecovery leaseRecovery(@Qualifier(STORE) Store store) {
    return store.leaseRecovery();
  }

  @Bean
  DeadJobs deadJobs(@Qualifier(STORE) Store store) {
    return store.deadJobs();
  }

  @Bean
  Indexes indexes(@Qualifier(STORE) Store store) {
    return store.indexes();
  }

  @Bean
  JobQueries jobQueries(@Qualifier(STORE) Store store) {
    return store.queries();
  }

  @Bean
  WorkerRegistry workerRegistry(
      RedisConnectionFactory connections, StoreProperties properties, Clock clock) {
    return new WorkerRegistry(
        new StringRedisTemplate(connections),
        properties.settings(),
        clock,
        properties.workerLostAfter());
  }

  @Bean
  RetryPolicy retryPolicy(StoreProperties properties) {
    return properties.retryPolicy();
  }
}
