package dev.shepherd.worker.app;

import static org.assertj.core.api.Assertions.assertThat;

import dev.shepherd.distribution.kubernetes.KubernetesJobDistributor;
import dev.shepherd.worker.config.DistributionProperties;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.time.Clock;
import org.junit.jupiter.api.Test;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/** The kubernetes-job distributor and its client exist only when a type uses them. */
class KubernetesJobsConfigurationTest {

  @Configuration(proxyBeanMethods = false)
  @EnableConfigurationProperties(DistributionProperties.class)
  static class WhatTheWorkerHas {
    @Bean
    Clock clock() {
      return Clock.systemUTC();
    }
  }

  private final ApplicationContextRunner runner =
      new ApplicationContextRunner()
          .withUserConfiguration(WhatTheWorkerHas.class, KubernetesJobsConfiguration.class);

  @Test
  void aWorkerWithoutKubernetesJobTypesBuildsNoKubernetesClient() {
    runner.run(
        context -> {
          assertThat(context).doesNotHaveBean(KubernetesJobDistributor.class);
          assertThat(context).doesNotHaveBean(KubernetesClient.class);
        });
    runner
        .withPropertyValues(
            "shepherd.distribution.types[report.render].distributor=http",
            "shepherd.distribution.types[report.render].settings.endpoint=http://svc/tasks")
        .run(context -> assertThat(context).doesNotHaveBean(KubernetesClient.class));
  }

  @Test
  void aTypeOnKubernetesJobsGetsTheDistributorAndItsClient() {
    runner
        .withPropertyValues(
            "shepherd.distribution.types[report.render].distributor=http",
            "shepherd.distribution.types[report.render].settings.endpoint=http://svc/tasks",
            "shepherd.distribution.types[report.batch].distributor=kubernetes-job",
            "shepherd.distribution.types[report.batch].settings.namespace=work",
            "shepherd.distribution.types[report.batch].settings.image=renderer:1")
        .run(
            context -> {
              assertThat(context).hasSingleBean(KubernetesClient.class);
              assertThat(context.getBean(KubernetesJobDistributor.class).name())
                  .isEqualTo("kubernetes-job");
            });
  }
}
