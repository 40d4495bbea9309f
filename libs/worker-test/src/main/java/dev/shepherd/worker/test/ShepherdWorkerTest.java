package dev.shepherd.worker.test;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Inherited;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.test.context.ContextConfiguration;

/**
 * Tests a worker's handlers against the real RabbitMQ and Redis, in a few lines: the application
 * starts as in production (the starter, its handler beans), connected to the services {@code
 * ServiceLocator} finds (the local ones, those named by {@code SHEPHERD_RABBITMQ_URI} and {@code
 * SHEPHERD_REDIS_URI}, or containers where Docker runs; a test that finds none fails and says so),
 * under prefixes of its own that are deleted afterwards. A {@link ShepherdTestJobs} bean submits
 * jobs through the scheduler's own intake and dispatcher and applies their reports with the status
 * tracker's own applier, in the test's JVM, so a job runs its whole path:
 *
 * <pre>{@code
 * @ShepherdWorkerTest
 * class ResizeHandlerTest {
 *   @Autowired ShepherdTestJobs jobs;
 *
 *   @Test
 *   void resizes() {
 *     JobView done = jobs.run("image.resize", Map.of("url", "https://...", "width", 100));
 *     assertThat(done.state()).isEqualTo(JobState.SUCCEEDED);
 *   }
 * }
 * }</pre>
 */
@Target(ElementType.TYPE)
@Retention(RetentionPolicy.RUNTIME)
@Documented
@Inherited
@SpringBootTest
@ContextConfiguration(initializers = ShepherdTestContext.class)
public @interface ShepherdWorkerTest {}
