package dev.shepherd.scheduler.console;

import static org.assertj.core.api.Assertions.assertThat;

import dev.shepherd.model.JobState;
import dev.shepherd.model.JobSummary;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

class JobFilterTest {

  private static final Instant NOW = Instant.parse("2026-12-01T10:00:00Z");
  private static final Function<String, String> POOLS =
      Map.of("demo.noop", "default", "report.render", "reports")::get;

  private static JobSummary job(String type, Duration ago) {
    return new JobSummary("p01-" + type, type, JobState.QUEUED, 0, NOW.minus(ago));
  }

  @Test
  void aPoolFilterKeepsTheJobsOfTypesDispatchedToThatPool() {
    JobFilter reports = new JobFilter(null, null, null, "reports", null);
    assertThat(reports.accepts(job("report.render", Duration.ZERO), POOLS, NOW)).isTrue();
    assertThat(reports.accepts(job("demo.noop", Duration.ZERO), POOLS, NOW)).isFalse();
  }

  @Test
  void aWindowKeepsTheJobsSubmittedWithinIt() {
    JobFilter lastHour = new JobFilter(null, null, null, null, Duration.ofHours(1));
    assertThat(lastHour.accepts(job("demo.noop", Duration.ofMinutes(59)), POOLS, NOW)).isTrue();
    assertThat(lastHour.accepts(job("demo.noop", Duration.ofHours(1)), POOLS, NOW)).isTrue();
    assertThat(lastHour.accepts(job("demo.noop", Duration.ofMinutes(61)), POOLS, NOW)).isFalse();
  }

  @Test
  void anEmptyFilterKeepsEverything() {
    assertThat(
            new JobFilter(null, null, null, null, null)
                .accepts(job("x", Duration.ofDays(9)), POOLS, NOW))
        .isTrue();
    assertThat(new JobFilter(null, null, null, null, null).query()).isEmpty();
  }
}
