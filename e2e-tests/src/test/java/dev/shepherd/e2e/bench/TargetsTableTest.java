package dev.shepherd.e2e.bench;

import static org.assertj.core.api.Assertions.assertThat;

import dev.shepherd.model.Json;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/** Issue 14's targets in the table a run writes, each met or missed by the run's own figures. */
class TargetsTableTest {

  @Test
  void aRunThatMeetsEveryTargetSaysSoOnEachRow() throws Exception {
    String table = Report.table(run(22.58, 1.51, 7, 19, 1.43, 1.77));

    assertThat(table)
        .contains("| Redis round trips per job (Shepherd's own calls) | 1.51 | <= 3 | yes |")
        .contains(
            "| Redis commands per job (INFO commandstats, incl. inside scripts) | 22.58 | <= 24 |"
                + " yes |")
        .contains(
            "| latency at 50% load (1,745 jobs/s): submit-to-finish p50 / p95 / p99 / max"
                + " | 7 / 13 / 19 / 791 ms | p50 < 10 ms, p99 < 50 ms | yes |")
        .contains("| 20,000 | 4,722 | 3,293 | 1.43 | >= 1.00 | yes |")
        .contains("| 20,000 | 3,490 | 1,968 | 1.77 | >= 1.00 | yes |");
  }

  @Test
  void eachMissedTargetIsMarkedOnItsOwnRow() throws Exception {
    String table = Report.table(run(24.5, 3.2, 10, 19, 0.99, 1.2));

    assertThat(table)
        .contains("| Redis round trips per job (Shepherd's own calls) | 3.20 | <= 3 | **no** |")
        .contains(
            "| Redis commands per job (INFO commandstats, incl. inside scripts) | 24.50 | <= 24 |"
                + " **no** |")
        .as("a p50 of 10 ms misses its target of under 10 even with the p99 met")
        .contains("| 10 / 13 / 19 / 791 ms | p50 < 10 ms, p99 < 50 ms | **no** |")
        .contains("| 0.99 | >= 1.00 | **no** |")
        .contains("| 1.20 | >= 1.00 | yes |");
    assertThat(Report.table(run(22, 1.5, 9, 50, 1.1, 1.1)))
        .as("a p99 of 50 ms misses its target of under 50")
        .contains("| 9 / 13 / 50 / 791 ms | p50 < 10 ms, p99 < 50 ms | **no** |");
  }

  @Test
  void aSkippedCelerySaysItsTargetWasNotMeasured() throws Exception {
    JsonNode run =
        Json.mapper()
            .readTree(
                """
                {"againstCelery": {"workers": 2, "slotsPerWorker": 8,
                  "shepherd": {"backlog": {"jobs": 20000, "drainJobsPerSecond": 4722},
                               "live": {"jobs": 20000, "jobsPerSecond": 3490}},
                  "celery": {"skipped": "missing Debian packages: python3-celery"}}}
                """);

    assertThat(Report.againstCeleryTable(run))
        .contains("| 20,000 | 4,722 | skipped |  | >= 1.00 | not measured |")
        .contains("Celery missing Debian packages: python3-celery");
  }

  /** A run's figures as Bench writes them, with the ones each target reads given. */
  private static JsonNode run(
      double commands, double trips, int p50, int p99, double backlogRatio, double liveRatio)
      throws Exception {
    return Json.mapper()
        .readTree(
            """
            {"rawBrokerMessagesPerSecond": 27923,
             "throughput": {
               "2 workers": {"jobsPerSecond": 3490, "cost": {"durableMessagesPerJob": 2.0,
                 "redisRoundTripsPerJob": %s, "redisCommandsPerJob": %s,
                 "amqpDeliveredPerJob": 2.0}},
               "4 workers": {"jobsPerSecond": 3228, "cost": {}}},
             "latency": {"50%%": {"offeredJobsPerSecond": 1745,
               "submitToStartMillis": {"p50": 7, "p95": 11, "p99": 17, "max": 776},
               "submitToFinishMillis": {"p50": %d, "p95": 13, "p99": %d, "max": 791}}},
             "backlog": {"drainJobsPerSecond": 5241, "redisBytesPerQueuedJob": 543,
               "redisBytesPerFinishedJob": 657, "rabbitMemoryBytesWithBacklog": 487587840},
             "rogueRecovery": {},
             "againstCelery": {"workers": 2, "slotsPerWorker": 8,
               "shepherd": {"backlog": {"jobs": 20000, "drainJobsPerSecond": 4722},
                            "live": {"jobs": 20000, "jobsPerSecond": 3490}},
               "celery": {"backlog": {"drainJobsPerSecond": 3293},
                          "live": {"jobsPerSecond": 1968}},
               "shepherdOverCelery": {"backlog": %s, "live": %s}}}
            """
                .formatted(trips, commands, p50, p99, backlogRatio, liveRatio));
  }
}
