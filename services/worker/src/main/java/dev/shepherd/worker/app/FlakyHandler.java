package dev.shepherd.worker.app;

import dev.shepherd.worker.JobContext;
import dev.shepherd.worker.JobHandler;
import dev.shepherd.worker.RetryableJobException;
import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;
import org.springframework.stereotype.Component;

/**
 * {@code demo.flaky}: fails transiently, with {@code failureProbability}, and always on its first
 * {@code failFirstAttempts} attempts (a deterministic flake for tests).
 */
@Component
class FlakyHandler implements JobHandler<FlakyHandler.Payload> {

  record Payload(Double failureProbability, Integer failFirstAttempts, Integer workMillis) {}

  private final DemoProperties demo;

  FlakyHandler(DemoProperties demo) {
    this.demo = demo;
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
    Work.take(p.workMillis() == null ? demo.workTime() : Duration.ofMillis(p.workMillis()));
    int failFirst = p.failFirstAttempts() == null ? 0 : p.failFirstAttempts();
    double probability =
        p.failureProbability() == null ? demo.failureProbability() : p.failureProbability();
    if (job.attempt() <= failFirst || ThreadLocalRandom.current().nextDouble() < probability) {
      throw new RetryableJobException("flaky failure on attempt " + job.attempt());
    }
  }
}
