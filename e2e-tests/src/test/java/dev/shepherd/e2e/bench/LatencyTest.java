package dev.shepherd.e2e.bench;

import static org.assertj.core.api.Assertions.assertThat;

import dev.shepherd.model.JobState;
import dev.shepherd.model.JobView;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Where a latency load's slow jobs were: one stall, or spread over the whole run. */
class LatencyTest {

  private static final Instant T0 = Instant.parse("2026-12-05T20:35:00Z");

  @Test
  void aStallShowsAsTheSlowJobsOfOneOrTwoSeconds() {
    List<JobView> jobs = new ArrayList<>();
    for (int second = 0; second < 10; second++) {
      for (int i = 0; i < 10; i++) {
        // second 6 stalls: its jobs take 200 ms, and the first 3 of second 7 catch the tail
        long took = second == 6 || (second == 7 && i < 3) ? 200 : 5;
        jobs.add(job(second * 1000L + i * 100, took));
      }
    }

    var slow = Latency.slowSeconds(jobs, 50);

    assertThat(slow)
        .containsEntry("overMillis", 50L)
        .containsEntry("jobs", 13)
        .containsEntry("seconds", 2)
        .containsEntry("ofSeconds", 10L)
        .containsEntry("worstSecond", 6L)
        .containsEntry("worstSecondJobs", 10)
        .containsEntry("inWorstTwoSeconds", 1.0);
  }

  @Test
  void aLoadTooHighForTheMachineSpreadsItsSlowJobsOverEverySecond() {
    List<JobView> jobs = new ArrayList<>();
    for (int second = 0; second < 10; second++) {
      jobs.add(job(second * 1000L, 5));
      jobs.add(job(second * 1000L + 500, 80));
    }

    var slow = Latency.slowSeconds(jobs, 50);

    assertThat(slow)
        .containsEntry("jobs", 10)
        .containsEntry("seconds", 10)
        .containsEntry("inWorstTwoSeconds", 0.2);
  }

  @Test
  void aJobAtTheThresholdIsNotSlowAndAnUnfinishedOneIsNotCounted() {
    List<JobView> jobs =
        List.of(job(0, 50), job(100, 51), job(200, 5), unfinished(300), job(1500, 5));

    var slow = Latency.slowSeconds(jobs, 50);

    assertThat(slow)
        .containsEntry("jobs", 1)
        .containsEntry("seconds", 1)
        .containsEntry("ofSeconds", 2L)
        .containsEntry("worstSecond", 0L);
    assertThat(Latency.slowSeconds(List.of(job(0, 5)), 50))
        .containsEntry("jobs", 0)
        .containsEntry("worstSecond", null)
        .containsEntry("inWorstTwoSeconds", 0.0);
  }

  private static JobView job(long submittedAfterMillis, long tookMillis) {
    Instant submitted = T0.plusMillis(submittedAfterMillis);
    return view(submitted, submitted.plusMillis(tookMillis));
  }

  private static JobView unfinished(long submittedAfterMillis) {
    return view(T0.plusMillis(submittedAfterMillis), null);
  }

  private static JobView view(Instant submitted, Instant finished) {
    return new JobView(
        "j-" + submitted.toEpochMilli(),
        "demo.noop",
        "default",
        finished == null ? JobState.RUNNING : JobState.SUCCEEDED,
        1,
        3,
        null,
        null,
        null,
        null,
        null,
        submitted,
        null,
        finished,
        null,
        null,
        null,
        null,
        null,
        null,
        null,
        List.of(),
        List.of(),
        null,
        List.of());
  }
}
