package dev.shepherd.e2e.bench;

import static org.assertj.core.api.Assertions.assertThat;

import dev.shepherd.model.Json;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CeleryRepeatsTest {

  @TempDir Path out;

  @Test
  void theMedianOfAnOddAndAnEvenCount() {
    assertThat(CeleryRepeats.median(List.of(1.16, 0.73, 0.94))).isEqualTo(0.94);
    assertThat(CeleryRepeats.median(List.of(0.8, 0.74))).isEqualTo(0.77);
    assertThat(CeleryRepeats.median(List.of())).isNaN();
  }

  @Test
  void everyRunIsARowAndTheMediansAreWrittenBesideTheRuns() throws Exception {
    var runs =
        List.of(
            run("2026-12-04T02:30:00Z", "a", 827, 1139, 0.73, 1393, 1732, 0.80),
            run("2026-12-04T02:38:00Z", "b", 1181, 1017, 1.16, 1248, 1696, 0.74),
            run("2026-12-04T02:46:00Z", "c", 928, 993, 0.94, 1118, 1485, 0.75));
    String table = CeleryRepeats.summarize(runs, out);
    assertThat(table)
        .contains("| 2026-12-04 02:38 | 1181 / 1017 | 1.16 | 1248 / 1696 | 0.74 |")
        .contains("| **median** | | **0.94** | | **0.75** | |");
    var summary = Json.mapper().readTree(Files.readString(out.resolve("0230-a-celery-x3.json")));
    assertThat(summary.path("medianRatioLive").asDouble()).isEqualTo(0.94);
    assertThat(summary.path("medianRatioBacklog").asDouble()).isEqualTo(0.75);
    assertThat(summary.path("runs").size()).isEqualTo(3);
  }

  @Test
  void aRunWithoutCeleryCountsInNoMedian() throws Exception {
    Map<String, Object> skipped =
        Map.of(
            "date", "2026-12-04T03:00:00Z",
            "resultsFile", out.resolve("0300-s-celery.json").toString(),
            "againstCelery", Map.of("celery", Map.of("skipped", "python3-celery is missing")));
    var runs = List.of(skipped, run("2026-12-04T03:10:00Z", "t", 1, 1, 1.05, 1, 1, 0.9));
    assertThat(CeleryRepeats.summarize(runs, out))
        .contains("| 2026-12-04 03:00 | 0 / 0 | skipped |")
        .contains("| **median** | | **1.05** | | **0.90** | |");
  }

  private Map<String, Object> run(
      String date,
      String commit,
      double shepherdLive,
      double celeryLive,
      double liveRatio,
      double shepherdBacklog,
      double celeryBacklog,
      double backlogRatio) {
    return Map.of(
        "date",
        date,
        "resultsFile",
        out.resolve(date.substring(11, 16).replace(":", "") + "-" + commit + "-celery.json")
            .toString(),
        "againstCelery",
        Map.of(
            "shepherd",
            Map.of(
                "live",
                Map.of(
                    "jobsPerSecond",
                    shepherdLive,
                    "steadyCpu",
                    Map.of("cpuMicrosPerJobAllProcesses", 700)),
                "backlog",
                Map.of("drainJobsPerSecond", shepherdBacklog)),
            "celery",
            Map.of(
                "live",
                Map.of(
                    "jobsPerSecond",
                    celeryLive,
                    "steadyCpu",
                    Map.of("cpuMicrosPerJobAllProcesses", 900)),
                "backlog",
                Map.of("drainJobsPerSecond", celeryBacklog)),
            "shepherdOverCelery",
            Map.of("live", liveRatio, "backlog", backlogRatio)));
  }
}
