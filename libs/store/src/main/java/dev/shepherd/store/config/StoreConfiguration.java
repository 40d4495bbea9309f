package dev.shepherd.store.config;

import dev.shepherd.model.RetryPolicy;
import dev.shepherd.store.JobStore;
import dev.shepherd.store.WorkerRegistry;
import java.time.Clock;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.data.redis.connection.RedisConnectionFactory;
import org.springframework.data.redis.core.StringRedisTemplate;

/** The job store, its clock and the retry policy as Spring beans, for every service. */
@Configuration(proxyBeanMethods = false)
@EnableConfigurationProperties(StoreProperties.class)
public class StoreConfiguration {

  @Bean
  Clock clock() {
    return Clock.systemUTC();
  }

  @Bean
  JobStore jobStore(RedisConnectionFactory connections, StoreProperties properties, Clock clock) {
    return new JobStore(new StringRedisTemplate(connections), properties.settings(), clock);
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
