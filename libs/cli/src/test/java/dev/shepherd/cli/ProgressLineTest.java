package dev.shepherd.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.shepherd.model.JobState;
import dev.shepherd.model.JobView;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The line {@code shepherd watch} prints for each change of a job. */
class ProgressLineTest {

  private static JobView job(JobState state, Integer percent, String message, String error) {
    return new JobView(
        "01-a",
        "site.generate",
        "default",
        state,
        2,
        3,
        null,
        null,
        null,
        null,
        null,
        Instant.EPOCH,
        null,
        null,
        "w1",
        percent,
        message,
        error,
        null,
        null,
        null,
        List.of(),
        List.of(),
        null,
        null);
  }

  @Test
  void aRunningJobShowsItsProgressBarMessageStateAndAttempt() {
    assertThat(ShepherdCli.progressLine(job(JobState.RUNNING, 45, "rendering", null)))
        .isEqualTo("[#########-----------]  45%  rendering  RUNNING (attempt 2)");
  }

  @Test
  void aSucceededJobIsFullAndADeadOneSaysWhy() {
    assertThat(ShepherdCli.progressLine(job(JobState.SUCCEEDED, 80, null, null)))
        .startsWith("[####################] 100%  SUCCEEDED");
    assertThat(ShepherdCli.progressLine(job(JobState.DEAD, null, null, "boom")))
        .isEqualTo("[--------------------]   0%  DEAD (attempt 2)  boom");
  }
}
