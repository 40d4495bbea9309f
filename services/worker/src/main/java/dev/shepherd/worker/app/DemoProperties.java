package dev.shepherd.worker.app;

import java.time.Duration;
import org.springframework.boot.context.properties.ConfigurationProperties;

/**
 * Defaults of the demo handlers ({@code shepherd.demo.*}); a job's payload can override each.
 *
 * @param phaseTime how long each phase of {@code site.generate} takes
 * @param failureProbability how often {@code demo.flaky} fails transiently
 * @param workTime how long {@code demo.flaky} works before it succeeds or fails
 */
@ConfigurationProperties("shepherd.demo")
public record DemoProperties(Duration phaseTime, Double failureProbability, Duration workTime) {

  public DemoProperties {
    phaseTime = phaseTime == null ? Duration.ofMillis(200) : phaseTime;
    failureProbability = failureProbability == null ? 0.5 : failureProbability;
    workTime = workTime == null ? Duration.ofMillis(50) : workTime;
    if (failureProbability < 0 || failureProbability > 1) {
      throw new IllegalArgumentException("shepherd.demo.failure-probability must be 0..1");
    }
  }
}
