package dev.shepherd.testsupport;

import java.lang.annotation.ElementType;
import java.lang.annotation.Inherited;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Runs the test class against a real RabbitMQ and Redis, found by {@link RealServicesExtension};
 * test methods and lifecycle methods may take {@link ServiceEndpoints} and {@link TestNames}.
 *
 * <pre>{@code
 * @WithRealServices
 * class LeaseIT {
 *   @Test
 *   void claims(ServiceEndpoints endpoints, TestNames names) { ... }
 * }
 * }</pre>
 */
@Inherited
@Target(ElementType.TYPE)
@Retention(RetentionPolicy.RUNTIME)
@ExtendWith(RealServicesExtension.class)
public @interface WithRealServices {}
