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
}
