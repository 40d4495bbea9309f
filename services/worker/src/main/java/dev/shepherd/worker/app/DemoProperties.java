package dev.shepherd.worker.app;

import java.time.Duration;
import org.springframework.boot.context.properties.ConfigurationProperties;

/**
 * Defaults of the demo handlers ({@code shepherd.demo.*}); a job's payload can override each.
 *
 * <pre>{@code
 * shepherd:
 *   demo:
 *     phase-time: 500ms
 *     failure-probability: 0.2
 * }</pre>
 *
 * @param phaseTime how long each phase of {@code site.generate} takes (default 200ms; payload
 *     {@code phaseMillis} overrides)
 * @param failureProbability how often {@code demo.flaky} fails transiently, 0..1 (default 0.5;
 *     payload {@code failureProbability} overrides)
 * @param workTime how long {@code demo.flaky} works before it succeeds or fails (default 50ms;
 *     payload {@code workMillis} overrides)
 */
@ConfigurationProperties("shepherd.demo")
public record DemoProperties(Duration phaseTime, Double failureProbability, Duration workTime) {

  public DemoProperties {
    phaseTime = phaseTime == null ? Duration.ofMillis(200) : phaseTime;
    failureProbability = failureProbability == null ? 0.5 : failureProbability;
    workTime = workTime == null ? Duration.ofMillis(50) : workTime;
    if (failureProbability < 0 || failureProbability > 1) {
      throw new IllegalArgumentException(
          "shepherd.demo.failure-probability must be within 0..1, was " + failureProbability);
    }
    if (phaseTime.isNegative()) {
      throw new IllegalArgumentException(
          "shepherd.demo.phase-time must not be negative, was " + phaseTime);
    }
    if (workTime.isNegative()) {
      throw new IllegalArgumentException(
          "shepherd.demo.work-time must not be negative, was " + workTime);
    }
  }
}
