package dev.shepherd.scheduler.console;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import org.junit.jupiter.api.Test;

class JobFilterTest {

  private static final Instant NOW = Instant.parse("2026-12-01T10:00:00Z");

  private static JobFilter range(Duration within, Instant from, Instant to) {
    return new JobFilter(null, null, null, null, within, from, to, JobFilter.PAGE);
  }

  @Test
  void aWindowKeepsTheJobsSubmittedWithinIt() {
    JobFilter lastHour = new JobFilter(null, null, null, null, Duration.ofHours(1));
    assertThat(lastHour.accepts(NOW.minus(Duration.ofMinutes(59)), NOW)).isTrue();
    assertThat(lastHour.accepts(NOW.minus(Duration.ofHours(1)), NOW)).isTrue();
    assertThat(lastHour.accepts(NOW.minus(Duration.ofMinutes(61)), NOW)).isFalse();
  }

  @Test
  void aRangeKeepsTheJobsSubmittedWithinItsBothEnds() {
    JobFilter range = range(null, NOW.minusSeconds(600), NOW.minusSeconds(60));
    assertThat(range.accepts(NOW.minusSeconds(600), NOW)).isTrue();
    assertThat(range.accepts(NOW.minusSeconds(60), NOW)).isTrue();
    assertThat(range.accepts(NOW.minusSeconds(601), NOW)).isFalse();
    assertThat(range.accepts(NOW.minusSeconds(59), NOW)).isFalse();
  }

  @Test
  void aWindowAndARangeCombineTheLaterStartWinning() {
    assertThat(range(Duration.ofMinutes(15), NOW.minusSeconds(3600), null).since(NOW))
        .isEqualTo(NOW.minus(Duration.ofMinutes(15)));
    assertThat(range(Duration.ofHours(24), NOW.minusSeconds(3600), null).since(NOW))
        .isEqualTo(NOW.minusSeconds(3600));
  }

  @Test
  void timesAreTakenAsInstantsOrAsUtcWithoutAZone() {
    assertThat(JobFilter.parseTime("2026-12-01T20:00:00Z"))
        .isEqualTo(Instant.parse("2026-12-01T20:00:00Z"));
    assertThat(JobFilter.parseTime("2026-12-01T20:00"))
        .isEqualTo(Instant.parse("2026-12-01T20:00:00Z"));
    assertThat(JobFilter.parseTime(" ")).isNull();
    assertThatThrownBy(() -> JobFilter.parseTime("yesterday"))
        .isInstanceOf(DateTimeParseException.class);
  }

  @Test
  void anEmptyFilterKeepsEverythingAndTheRangeGoesIntoThePageLinks() {
    assertThat(new JobFilter(null, null, null, null, null).accepts(NOW.minusSeconds(99_999), NOW))
        .isTrue();
    assertThat(new JobFilter(null, null, null, null, null).query()).isEmpty();
    assertThat(range(null, Instant.parse("2026-12-01T09:00:00Z"), null).query())
        .isEqualTo("&from=2026-12-01T09%3A00%3A00Z");
  }
}
