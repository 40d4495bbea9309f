package dev.shepherd.e2e.bench;

import static org.assertj.core.api.Assertions.assertThat;

import dev.shepherd.model.Json;
import org.junit.jupiter.api.Test;

/** The steady window's table, from figures shaped as a run writes them. */
class SteadyCpuTableTest {

  @Test
  void listsEachProcessThenTheBrokerAndRedisBesideThem() throws Exception {
    var run =
        Json.mapper()
            .readTree(
                """
                {"throughput": {"2 workers": {"steadyCpu": {
                  "cpuMicrosPerJob": {"scheduler": 100, "worker-1": 300},
                  "cpuMicrosPerJobAllProcesses": 400,
                  "infrastructureCpuMicrosPerJob": {"rabbitmq": 450, "redis": 200},
                  "cpuMicrosPerJobWithInfrastructure": 1050}}}}
                """);

    assertThat(Report.steadyCpuTable(run))
        .contains("| Shepherd, 2 workers | scheduler | 100 | | |")
        .contains("| Shepherd, 2 workers | worker-1 | 300 | | |")
        .contains("| Shepherd, 2 workers | **all processes** | 400 | <= 1,000 | yes |")
        .contains("| Shepherd, 2 workers | rabbitmq (shared) | 450 | | |")
        .contains("| Shepherd, 2 workers | redis (shared) | 200 | | |")
        .contains("| Shepherd, 2 workers | these and the broker and Redis | 1,050 | | |");
  }

  @Test
  void listsBothBacklogDrainsWindowsAndTheirSecondsSideBySide() throws Exception {
    var run =
        Json.mapper()
            .readTree(
                """
                {"againstCelery": {
                  "shepherd": {"backlog": {"workersStartToFirstFinishSeconds": 9.8,
                    "drainPerSecond": [464, 1514, 700],
                    "steadyCpu": {"cpuMicrosPerJob": {"worker-3": 211},
                      "cpuMicrosPerJobAllProcesses": 581}}},
                  "celery": {"backlog": {"drainPerSecond": [1235, 1667],
                    "steadyCpu": {"cpuMicrosPerJob": {"celery-worker-1": 517},
                      "cpuMicrosPerJobAllProcesses": 966}}}}}
                """);

    assertThat(Report.steadyCpuTable(run))
        .contains("| Shepherd, backlog drain | worker-3 | 211 | | |")
        .contains("| Shepherd, backlog drain | **all processes** | 581 |  |  |")
        .contains("| Celery, backlog drain | celery-worker-1 | 517 | | |")
        .contains("Shepherd's new workers took 9.80 s from their start to the first")
        .contains("| 1 | 464 | 1,235 |\n| 2 | 1,514 | 1,667 |\n| 3 | 700 |  |\n");
  }

  @Test
  void hasNoDrainTableWithoutDrainsSecondBySecond() throws Exception {
    var run = Json.mapper().readTree("{\"againstCelery\": {\"shepherd\": {\"backlog\": {}}}}");

    assertThat(Report.drainTable(run)).isEmpty();
  }
}
