package dev.shepherd.worker.test;

import dev.shepherd.testsupport.ServiceEndpoints;
import dev.shepherd.testsupport.ServiceLocator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import org.springframework.context.ApplicationContextInitializer;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.support.GenericApplicationContext;
import org.springframework.core.env.MapPropertySource;

/**
 * What {@link ShepherdWorkerTest} adds to the application's context: the located broker and Redis,
 * a unique prefix for every queue, exchange and key, and the {@link ShepherdTestJobs} bean.
 */
public final class ShepherdTestContext
    implements ApplicationContextInitializer<ConfigurableApplicationContext> {

  /** The property source this adds, first of all. */
  public static final String SOURCE = "shepherdWorkerTest";

  @Override
  public void initialize(ConfigurableApplicationContext context) {
    ServiceEndpoints endpoints = ServiceLocator.standard().locate();
    String prefix =
        "wt" + Long.toString(ThreadLocalRandom.current().nextLong(1L << 40, 1L << 41), 36);
    Map<String, Object> properties = new LinkedHashMap<>(endpoints.asSpringProperties());
    properties.put("shepherd.messaging.prefix", prefix);
    properties.put("shepherd.store.prefix", prefix);
    properties.putIfAbsent("shepherd.worker.id", prefix + "-worker");
    context
        .getEnvironment()
        .getPropertySources()
        .addFirst(new MapPropertySource(SOURCE, properties));
    if (context instanceof GenericApplicationContext generic) {
      generic.registerBean(ShepherdTestJobs.class);
    } else {
      throw new IllegalStateException(
          "@ShepherdWorkerTest needs a GenericApplicationContext, not " + context.getClass());
    }
  }
}
