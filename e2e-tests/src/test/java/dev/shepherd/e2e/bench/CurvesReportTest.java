package dev.shepherd.e2e.bench;

import static org.assertj.core.api.Assertions.assertThat;

import dev.shepherd.model.Json;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;

/** The curves' and the soak's tables and plots, from figures shaped as a run writes them. */
class CurvesReportTest {

  private static final String RUN =
      """
      {"scaling": {"slotsPerWorker": 8,
                   "jobsPerSecondByWorkers": {"1": 120.5, "2": 194.0, "4": 253.0, "8": 240.0}},
       "loadCurve": {"workers": 4, "throughputJobsPerSecond": 253.0, "stepSeconds": 20,
         "steps": [
           {"fractionOfThroughput": 0.1, "offeredJobsPerSecond": 25.3,
            "completedJobsPerSecond": 25.1, "saturated": false, "jobs": 506,
            "submitToFinishMillis": {"p50": 0.0, "p95": 9.0, "p99": 14.0, "max": 30.0}},
           {"fractionOfThroughput": 1.1, "offeredJobsPerSecond": 278.3,
            "completedJobsPerSecond": 230.0, "saturated": true, "jobs": 5566,
            "submitToFinishMillis": {"p50": 900.0, "p95": 2500.0, "p99": 3100.0, "max": 3300.0}}
         ]}}
      """;

  @Test
  void tablesTheScalingAndLoadCurves() {
    String table = Report.curvesTable(Json.mapper().readTree(RUN));

    assertThat(table)
        .contains("Scaling: no-op jobs/s against workers (each its own process, 8 slots each)")
        .contains("| 1 | 121 |", "| 8 | 240 |")
        .contains("Load curve: submit-to-finish latency against offered load (4 workers, 20 s")
        .contains("| 10 % | 25 | 25 | 0 / 9 / 14 / 30 ms | no |")
        .contains("| 110 % | 278 | 230 | 900 / 2,500 / 3,100 / 3,300 ms | yes |");
  }

  @Test
  void leavesThemOutOfRunsThatDidNotMeasureThem() {
    assertThat(Report.curvesTable(Json.mapper().readTree("{\"mode\": \"celery\"}"))).isEmpty();
  }

  @Test
  void plotsBothCurves(@TempDir Path out) throws Exception {
    Report.plotCurves(Json.mapper().readTree(RUN), "full", out);

    assertThat(out.resolve("scaling-full.png")).isNotEmptyFile();
    assertThat(out.resolve("latency-curve-full.png")).isNotEmptyFile();
  }

  @Test
  void tablesTheSoakWithEachProcessHeap() {
    JsonNode soak =
        Json.mapper()
            .readTree(
                """
                {"jobs": 500000, "workers": 2, "slotsPerWorker": 8,
                 "queueSeconds": 600.0, "queuedJobsPerSecond": 833.3,
                 "drainSeconds": 1250.0, "drainJobsPerSecond": 400.0,
                 "redisBytesPerQueuedJob": 1280, "redisBytesPerFinishedJob": 1734,
                 "rabbitQueueBytesPerQueuedJob": 815, "rabbitRssBytesPerQueuedJob": 1841,
                 "succeeded": 500000, "dead": 0, "passed": true,
                 "processes": {
                   "scheduler": {"alive": true, "heapMaxMiB": 371.0, "heapUsedPeakMiB": 134.0,
                                 "liveDataAfterGcPeakMiB": 29.0, "gcPauses": 4,
                                 "gcPauseSeconds": 1.32},
                   "worker-1": {"alive": false, "outOfMemory": "java.lang.OutOfMemoryError"}}}
                """);

    assertThat(BacklogSoak.table(soak))
        .contains(
            "Backlog soak: 500,000 no-op jobs queued with no worker, drained by 2 workers x 8")
        .contains("| drained (first to last finish) | 400 jobs/s (1,250 s) |")
        .contains("| Redis used_memory per queued job | 1,280 B |")
        .contains("| RabbitMQ queues' memory per queued job | 815 B |")
        .contains("| succeeded / dead | 500,000 / 0 |")
        .contains("134 / 29 / 371 MiB; 4 GC pauses, 1.32 s in all; alive")
        .contains("heap of worker-1")
        .contains("**exited**");
  }
}
