package dev.shepherd.testsupport;

import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionConfigurationException;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * Locates RabbitMQ and Redis once per JVM (see {@link ServiceLocator}; a Redis Cluster when the run
 * asks for one, {@link ServiceLocator#locateForBackend()}) and hands tests {@link ServiceEndpoints}
 * and a {@link TestNames} per test class. A missing service fails the test class with the locator's
 * explanation; it is never skipped.
 */
public final class RealServicesExtension implements BeforeAllCallback, ParameterResolver {

  private static final ExtensionContext.Namespace NAMESPACE =
      ExtensionContext.Namespace.create(RealServicesExtension.class);

  @Override
  public void beforeAll(ExtensionContext context) {
    endpoints(context);
  }

  private static ServiceEndpoints endpoints(ExtensionContext context) {
    Object found =
        context
            .getRoot()
            .getStore(NAMESPACE)
            .computeIfAbsent(
                "endpoints",
                key -> {
                  try {
                    return ServiceLocator.standard().locateForBackend();
                  } catch (IllegalStateException e) {
                    return e;
                  }
                });
    if (found instanceof IllegalStateException e) {
      throw new ExtensionConfigurationException(e.getMessage());
    }
    return (ServiceEndpoints) found;
  }

  @Override
  public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
    Class<?> type = parameter.getParameter().getType();
    return type == ServiceEndpoints.class || type == TestNames.class;
  }

  @Override
  public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
    if (parameter.getParameter().getType() == ServiceEndpoints.class) {
      return endpoints(context);
    }
    ExtensionContext classContext =
        context.getTestClass().isPresent() && context.getTestMethod().isPresent()
            ? context.getParent().orElse(context)
            : context;
    return classContext
        .getStore(NAMESPACE)
        .computeIfAbsent("names", key -> new TestNames(), TestNames.class);
  }
}
