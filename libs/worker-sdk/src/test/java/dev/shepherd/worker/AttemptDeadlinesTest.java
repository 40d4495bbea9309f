package dev.shepherd.worker;

import static org.assertj.core.api.Assertions.assertThat;

import dev.shepherd.model.JobTimeouts;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.Test;

class AttemptDeadlinesTest {

  private static final Instant CLAIMED = Instant.parse("2026-01-02T03:04:05Z");

  private static Instant at(long millis) {
    return CLAIMED.plusMillis(millis);
  }

  private static AttemptDeadlines deadlines(
      Duration startToClose, Duration stall, Map<String, Duration> phases) {
    return new AttemptDeadlines(new JobTimeouts(startToClose, stall, phases), CLAIMED);
  }

  @Test
  void anAttemptWithoutTimeoutsHasNoDeadline() {
    var none = new AttemptDeadlines(JobTimeouts.NONE, CLAIMED);
    none.phaseStarted("render", at(10));

    assertThat(none.next()).isEmpty();
    assertThat(AttemptDeadlines.bounds(JobTimeouts.NONE)).isFalse();
    assertThat(
            AttemptDeadlines.bounds(
                new JobTimeouts(null, null, Map.of(), Duration.ofMinutes(1), false)))
        .as("scheduleToStart bounds the wait before the claim, not the attempt")
        .isFalse();
  }

  @Test
  void theStallRunsFromTheClaimAndMovesWithEachReport() {
    var d = deadlines(null, Duration.ofSeconds(1), Map.of());
    assertThat(d.next()).hasValueSatisfying(x -> assertThat(x.at()).isEqualTo(at(1_000)));

    d.reported(at(700));
    assertThat(d.passed(at(1_000))).isEmpty();
    assertThat(d.next())
        .hasValueSatisfying(
            x -> {
              assertThat(x.timeout()).isEqualTo("stall");
              assertThat(x.at()).isEqualTo(at(1_700));
              assertThat(x.failure()).isEqualTo(new Failure("timeout:stall", true));
              assertThat(x.label()).isEqualTo("stall");
            });
    d.phaseStarted("download", at(1_500));
    d.phaseEnded("download", at(2_400));
    assertThat(d.next()).hasValueSatisfying(x -> assertThat(x.at()).isEqualTo(at(3_400)));
    assertThat(d.passed(at(3_399))).isEmpty();
    assertThat(d.passed(at(3_400))).isPresent();
  }

  @Test
  void aReportStampedEarlierThanTheLastDoesNotBringTheStallForward() {
    var d = deadlines(null, Duration.ofSeconds(1), Map.of());
    d.reported(at(900));
    d.reported(at(500));

    assertThat(d.next()).hasValueSatisfying(x -> assertThat(x.at()).isEqualTo(at(1_900)));
  }

  @Test
  void startToCloseRunsFromTheClaimWhateverTheReports() {
    var d = deadlines(Duration.ofSeconds(2), Duration.ofSeconds(1), Map.of());
    for (int ms = 300; ms <= 2_100; ms += 300) {
      d.reported(at(ms));
    }

    assertThat(d.passed(at(2_100)))
        .hasValueSatisfying(
            x -> {
              assertThat(x.timeout()).isEqualTo("startToClose");
              assertThat(x.at()).isEqualTo(at(2_000));
              assertThat(x.failure().error()).isEqualTo("timeout:startToClose");
            });
  }

  @Test
  void aPhasesLimitRunsFromItsStartAndEndsWithIt() {
    var d = deadlines(null, null, Map.of("render", Duration.ofSeconds(1)));
    d.phaseStarted("fetch", at(100)); // no limit of its own
    assertThat(d.next()).isEmpty();
    d.phaseEnded("fetch", at(5_000));

    d.phaseStarted("render", at(5_000));
    assertThat(d.next())
        .hasValueSatisfying(
            x -> {
              assertThat(x.timeout()).isEqualTo("phase:render");
              assertThat(x.at()).isEqualTo(at(6_000));
              assertThat(x.label()).isEqualTo("phase");
              assertThat(x.failure().error()).isEqualTo("timeout:phase:render");
            });
    d.reported(at(5_900)); // progress within the phase does not extend its limit
    assertThat(d.passed(at(6_000))).isPresent();

    d.phaseEnded("render", at(5_950));
    assertThat(d.next()).isEmpty();
  }

  @Test
  void theEarliestDeadlineIsTheOneThatCounts() {
    var d =
        deadlines(
            Duration.ofSeconds(10),
            Duration.ofSeconds(3),
            Map.of("render", Duration.ofSeconds(2), "upload", Duration.ofSeconds(5)));
    d.phaseStarted("upload", at(0));
    d.phaseStarted("render", at(500));

    assertThat(d.next()).hasValueSatisfying(x -> assertThat(x.timeout()).isEqualTo("phase:render"));
    d.phaseEnded("render", at(1_000));
    assertThat(d.next()).hasValueSatisfying(x -> assertThat(x.timeout()).isEqualTo("stall"));
    d.reported(at(2_500));
    assertThat(d.next()).hasValueSatisfying(x -> assertThat(x.timeout()).isEqualTo("phase:upload"));
  }
}
