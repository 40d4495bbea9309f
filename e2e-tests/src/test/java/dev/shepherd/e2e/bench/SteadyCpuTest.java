package dev.shepherd.e2e.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class SteadyCpuTest {

  private final Map<String, Double> cpu = new HashMap<>();

  @Test
  void countsOnlyTheCpuSpentBetweenTwentyAndNinetyPercentFinished() {
    var steady = new SteadyCpu(1_000, () -> Map.copyOf(cpu));
    cpu.put("scheduler", 5.0); // start-up, not counted
    cpu.put("worker-1", 7.0);
    steady.observe(100);
    steady.observe(250); // the window opens
    cpu.put("scheduler", 5.3);
    cpu.put("worker-1", 7.6);
    steady.observe(900); // and closes: 650 jobs, 0.3 s and 0.6 s
    cpu.put("scheduler", 9.0); // the tail, not counted
    steady.observe(1_000);

    Map<String, Object> f = steady.figures();
    assertThat(f.get("fromJobsFinished")).isEqualTo(250L);
    assertThat(f.get("toJobsFinished")).isEqualTo(900L);
    assertThat(f.get("cpuMicrosPerJob"))
        .isEqualTo(
            Map.of("scheduler", Math.round(0.3e6 / 650), "worker-1", Math.round(0.6e6 / 650)));
    assertThat(f.get("cpuMicrosPerJobAllProcesses")).isEqualTo(Math.round(0.9e6 / 650));
  }

  @Test
  void reportsTheBrokerAndRedisBesideTheProcessesWithoutAddingThemIn() {
    Map<String, Double> shared = new HashMap<>();
    var steady = new SteadyCpu(1_000, () -> Map.copyOf(cpu), () -> Map.copyOf(shared));
    cpu.put("worker-1", 1.0);
    shared.put("rabbitmq", 10.0);
    shared.put("redis", 4.0);
    steady.observe(200); // the window opens
    cpu.put("worker-1", 1.5);
    shared.put("rabbitmq", 10.2);
    shared.put("redis", 4.1);
    steady.observe(900); // and closes: 700 jobs

    Map<String, Object> f = steady.figures();
    assertThat(f.get("cpuMicrosPerJobAllProcesses")).isEqualTo(Math.round(0.5e6 / 700));
    assertThat(f.get("infrastructureCpuMicrosPerJob"))
        .isEqualTo(Map.of("rabbitmq", Math.round(0.2e6 / 700), "redis", Math.round(0.1e6 / 700)));
    assertThat(f.get("cpuMicrosPerJobWithInfrastructure")).isEqualTo(Math.round(0.8e6 / 700));
  }

  @Test
  void leavesOutTheInfrastructureWhenItCannotBeRead() {
    var steady = new SteadyCpu(1_000, () -> Map.copyOf(cpu), Map::of);
    cpu.put("worker-1", 1.0);
    steady.observe(200);
    cpu.put("worker-1", 1.5);
    steady.observe(900);

    assertThat(steady.figures())
        .containsKey("cpuMicrosPerJobAllProcesses")
        .doesNotContainKeys("infrastructureCpuMicrosPerJob", "cpuMicrosPerJobWithInfrastructure");
  }

  @Test
  void opensTheWindowBeforeTheOpeningEdgeSoASlowEdgeCannotLoseIt() {
    // CI's quick run: starting the profiles took longer than the rest of the run, and a window
    // opened after the edge began where it ended, with every job finished ("too short")
    double[] finished = {200};
    var steady =
        new SteadyCpu(1_000, () -> Map.copyOf(cpu))
            .withEdges(
                new SteadyCpu.Edges() {
                  @Override
                  public void opened(double at) {
                    cpu.merge("worker-1", 0.5, Double::sum); // attaching a profiler
                    finished[0] = 1_000; // every job finished meanwhile
                  }
                });
    cpu.put("worker-1", 1.0);
    steady.observe(finished[0]); // the window opens
    cpu.merge("worker-1", 0.3, Double::sum);
    steady.observe(finished[0]); // and closes at the next sample: 800 jobs, 0.8 s

    Map<String, Object> f = steady.figures();
    assertThat(f).doesNotContainKey("skipped");
    assertThat(f.get("fromJobsFinished")).isEqualTo(200L);
    assertThat(f.get("toJobsFinished")).isEqualTo(1_000L);
    assertThat(f.get("cpuMicrosPerJob")).isEqualTo(Map.of("worker-1", Math.round(0.8e6 / 800)));
  }

  @Test
  void saysSoWhenTheRunWasTooShortForAWindow() {
    var steady = new SteadyCpu(100, () -> Map.copyOf(cpu));
    steady.observe(100); // 20 % and 90 % passed in one sample

    assertThat(steady.figures()).containsKey("skipped").doesNotContainKey("cpuMicrosPerJob");
  }
}
