package dev.shepherd.worker.app;

import dev.shepherd.distribution.kubernetes.KubernetesJobDistributor;
import dev.shepherd.worker.config.DistributedTypes;
import dev.shepherd.worker.config.DistributionProperties;
import dev.shepherd.worker.config.DistributionProperties.TypeProperties;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import java.time.Clock;
import java.util.Map;
import org.springframework.boot.context.properties.bind.Bindable;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Condition;
import org.springframework.context.annotation.ConditionContext;
import org.springframework.context.annotation.Conditional;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.type.AnnotatedTypeMetadata;

/**
 * The {@code kubernetes-job} distributor, for the job types configured with it ({@code
 * shepherd.distribution.types.<type>.distributor=kubernetes-job}, ADR 46). Only when one is: a
 * worker without such types builds no Kubernetes client and starts anywhere. The client is
 * configured the usual fabric8 way: in a pod, from its service account (which the chart binds to a
 * Role on Jobs and pods when {@code distribution.kubernetesJobs.enabled}); elsewhere from {@code
 * ~/.kube/config}.
 */
@Configuration(proxyBeanMethods = false)
@Conditional(KubernetesJobsConfiguration.TypesUseKubernetesJobs.class)
class KubernetesJobsConfiguration {

  @Bean(destroyMethod = "close")
  KubernetesClient kubernetesJobsClient() {
    return new KubernetesClientBuilder().build();
  }

  /** Registered with the worker's distributed types by {@code WorkerConfiguration}. */
  @Bean(destroyMethod = "close")
  KubernetesJobDistributor kubernetesJobDistributor(
      KubernetesClient kubernetesJobsClient, DistributionProperties distribution, Clock clock) {
    return new KubernetesJobDistributor(
        kubernetesJobsClient,
        DistributedTypes.callbackSignatures(distribution, clock),
        DistributedTypes.callbackBase(distribution));
  }

  /** True when a configured type names the {@code kubernetes-job} distributor. */
  static final class TypesUseKubernetesJobs implements Condition {
    @Override
    public boolean matches(ConditionContext context, AnnotatedTypeMetadata metadata) {
      Map<String, TypeProperties> types =
          Binder.get(context.getEnvironment())
              .bind(
                  "shepherd.distribution.types", Bindable.mapOf(String.class, TypeProperties.class))
              .orElse(Map.of());
      return types.values().stream()
          .anyMatch(t -> t != null && KubernetesJobDistributor.NAME.equals(t.distributor()));
    }
  }
}
