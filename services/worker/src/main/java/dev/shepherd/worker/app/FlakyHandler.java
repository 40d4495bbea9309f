package dev.shepherd.worker.app;

import dev.shepherd.worker.JobContext;
import dev.shepherd.worker.JobHandler;
import dev.shepherd.worker.RetryableJobException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.DoubleSupplier;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.stereotype.Component;

/**
 * {@code demo.flaky}: works for {@code workMillis}, then fails transiently with {@code
 * failureProbability}, and always on its first {@code failFirstAttempts} attempts (a deterministic
 * flake for tests). On its first {@code hangFirstAttempts} attempts it hangs instead (ten minutes,
 * reporting nothing, until interrupted): the handler a stall timeout is for. While the file {@code
 * failUntilFile} names does not exist it fails transiently (a destination down until a flag flips).
 */
@Component
class FlakyHandler implements JobHandler<FlakyHandler.Payload> {

  /** Every field is optional; the defaults come from {@link DemoProperties}. */
  record Payload(
      Double failureProbability,
      Integer failFirstAttempts,
      Integer workMillis,
      Integer hangFirstAttempts,
      String failUntilFile) {}

  /** How long a hanging attempt hangs: far past any stall timeout a test sets. */
  private static final Duration HANG = Duration.ofMinutes(10);

  private final DemoProperties demo;
  private final DoubleSupplier random;

  @Autowired
  FlakyHandler(DemoProperties demo) {
    this(demo, () -> ThreadLocalRandom.current().nextDouble());
  }

  /**
   * @param random a draw in [0, 1); the attempt fails when it is below the probability
   */
  FlakyHandler(DemoProperties demo, DoubleSupplier random) {
    this.demo = demo;
    this.random = random;
  }

  @Override
  public String type() {
    return "demo.flaky";
  }

  @Override
  public Class<Payload> payloadType() {
    return Payload.class;
  }

  @Override
  public void handle(JobContext<Payload> job) throws Exception {
    Payload p = job.payload();
    if (p.hangFirstAttempts() != null && job.attempt() <= p.hangFirstAttempts()) {
      Work.take(HANG);
    }
    Work.take(p.workMillis() == null ? demo.workTime() : Duration.ofMillis(p.workMillis()));
    int failFirst = p.failFirstAttempts() == null ? 0 : p.failFirstAttempts();
    double probability =
        p.failureProbability() == null ? demo.failureProbability() : p.failureProbability();
    if (p.failUntilFile() != null && !Files.exists(Path.of(p.failUntilFile()))) {
      throw new RetryableJobException(
          "flaky failure on attempt " + job.attempt() + ": " + p.failUntilFile() + " is not there");
    }
    if (job.attempt() <= failFirst) {
      throw new RetryableJobException(
          "flaky failure on attempt " + job.attempt() + " (fails the first " + failFirst + ")");
    }
    if (random.getAsDouble() < probability) {
      throw new RetryableJobException(
          "flaky failure on attempt " + job.attempt() + " (probability " + probability + ")");
    }
  }
}
