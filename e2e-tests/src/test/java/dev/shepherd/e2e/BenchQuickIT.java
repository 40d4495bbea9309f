package dev.shepherd.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.shepherd.e2e.bench.Bench;
import dev.shepherd.model.Json;
import dev.shepherd.testsupport.ServiceEndpoints;
import dev.shepherd.testsupport.WithRealServices;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/**
 * Runs {@code make bench-quick}'s small version of every scenario, so the bench code cannot rot. It
 * checks that every figure was measured and written, not how fast anything was: speed is reported
 * in docs/BENCHMARKS.md, never asserted. Celery's scenario runs only where Debian's python3-celery
 * and python3-redis are installed; elsewhere the results say it was skipped and why, and so does
 * this test's output.
 */
// it counts the shared Redis's commands and the processes' CPU: no other test may run meanwhile
@org.junit.jupiter.api.parallel.Isolated
@WithRealServices
class BenchQuickIT {

  @Test
  void everyScenarioRunsAndWritesItsFiguresTableAndPlots(ServiceEndpoints endpoints)
      throws Exception {
    Path out = Cluster.repositoryRoot().resolve("e2e-tests/target/bench-quick");
    Map<String, Object> results = Bench.run(Bench.Config.quick(), out, endpoints);
    JsonNode r = Json.mapper().valueToTree(results);

    assertThat(r.path("rawBrokerMessagesPerSecond").asDouble()).isPositive();
    for (String workers : new String[] {"2 workers", "4 workers", Bench.KEYED}) {
      JsonNode t = r.path("throughput").path(workers);
      assertThat(t.path("jobsPerSecond").asDouble()).as(workers).isPositive();
      JsonNode cost = t.path("cost");
      assertThat(cost.path("durableMessagesPerJob").asDouble())
          .as(workers)
          .isGreaterThanOrEqualTo(2);
      assertThat(cost.path("redisRoundTripsPerJob").asDouble()).as(workers).isPositive();
      assertThat(cost.path("redisCommandsPerJob").asDouble()).as(workers).isPositive();
      assertThat(cost.path("cpuSecondsPer1000Jobs").size()).as(workers).isGreaterThanOrEqualTo(4);
      assertSteadyCpu(t.path("steadyCpu"), workers);
      assertRedisPerJob(cost, workers);
    }
    assertCpuByStage(r.at("/throughput/2 workers"), out);
    assertAllocationsByStage(r.at("/throughput/4 workers/stageBudget"), out);
    r.path("startupCpu")
        .properties()
        .forEach(
            e ->
                assertThat(e.getValue().path("cpuSeconds").asDouble()).as(e.getKey()).isPositive());
    assertThat(r.path("startupCpu").size())
        .as("processes with a start-up figure")
        .isGreaterThanOrEqualTo(6);
    for (String load : new String[] {"25%", "50%", "75%"}) {
      JsonNode l = r.path("latency").path(load);
      assertThat(l.path("jobs").asInt()).as(load).isPositive();
      assertThat(l.at("/submitToFinishMillis/p99").isNumber()).as(load).isTrue();
      // where its slow jobs were: the seconds of the run it counted them in
      assertThat(l.at("/slowJobsBySecond/ofSeconds").asLong()).as(load).isPositive();
      // the floor measured beside it: the broker alone carrying a job's two hops at that rate
      assertThat(l.at("/brokerAlone/jobsPerSecond").asDouble()).as(load).isPositive();
      assertThat(l.at("/brokerAlone/rabbitmqCpuMicrosPerJob").asDouble()).as(load).isPositive();
      for (String alone : new String[] {"brokerAlone", "brokerWorkHopAlone"}) {
        assertThat(l.at("/" + alone + "/publishToLastDeliveryMillis/p99").asDouble())
            .as("%s at %s", alone, load)
            .isPositive();
      }
    }
    for (String workers : new String[] {"1", "2", "4"}) {
      assertThat(r.at("/scaling/jobsPerSecondByWorkers/" + workers).asDouble())
          .as("scaling, %s workers", workers)
          .isPositive();
    }
    JsonNode loadSteps = r.at("/loadCurve/steps");
    assertThat(loadSteps.size()).as("load curve steps").isEqualTo(3);
    for (JsonNode step : loadSteps) {
      assertThat(step.path("jobs").asInt()).as("load curve %s", step).isPositive();
      assertThat(step.at("/submitToFinishMillis/p99").isNumber()).as("load curve").isTrue();
    }
    // every process's idle CPU, read with no job to run after the warm-up
    JsonNode idle = r.at("/idle/cpuMillisPerSecond");
    assertThat(idle.properties().stream().map(java.util.Map.Entry::getKey).toList())
        .containsExactlyInAnyOrder(
            "scheduler", "status-tracker", "recovery", "worker-1", "worker-2");
    idle.properties()
        .forEach(e -> assertThat(e.getValue().asDouble()).as(e.getKey()).isNotNegative());
    // the backlog runs make bench-soak's code: every job succeeded, no process out of heap
    JsonNode soak = r.path("backlog");
    assertThat(soak.path("succeeded").asInt()).isEqualTo(soak.path("jobs").asInt()).isPositive();
    assertThat(soak.path("passed").asBoolean()).as("backlog soak: %s", soak).isTrue();
    assertThat(soak.path("drainJobsPerSecond").asDouble()).isPositive();
    assertThat(soak.path("rabbitQueueMemoryBytes").size()).isPositive();
    assertThat(soak.path("processes").size()).isEqualTo(5);
    soak.path("processes")
        .properties()
        .forEach(
            p ->
                assertThat(p.getValue().path("heapUsedPeakMiB").asDouble())
                    .as(p.getKey())
                    .isPositive());
    assertThat(r.at("/backlog/drainJobsPerSecond").asDouble()).isPositive();
    assertThat(r.at("/backlog/redisBytesPerFinishedJob").asDouble()).isPositive();
    for (String rogue : new String[] {"sigkillDefaultTtl", "sigkillShortTtl", "podDeleted"}) {
      JsonNode k = r.path("rogueRecovery").path(rogue);
      assertThat(k.path("jobs").asInt()).as(rogue).isPositive();
      assertThat(k.path("redispatched").asInt()).as(rogue).isEqualTo(k.path("jobs").asInt());
    }
    // The deleted pod's worker held a 10 minute lease and kept renewing it: its jobs can only
    // have been released by the pod watch, and each one's history says so.
    JsonNode podDeleted = r.at("/rogueRecovery/podDeleted");
    assertThat(podDeleted.path("leaseTtlSeconds").asDouble())
        .isGreaterThan(podDeleted.path("maxSeconds").asDouble() * 10);
    assertThat(podDeleted.path("releasedByPodWatch").asInt())
        .as("jobs released by the pod watch")
        .isEqualTo(podDeleted.path("jobs").asInt());
    // the console's pages over the jobs stored straight into Redis, each answered 200 and timed
    JsonNode console = r.path("console");
    assertThat(console.path("jobs").asInt()).isEqualTo(Bench.Config.quick().consoleJobs());
    assertThat(console.path("pages").size()).isEqualTo(7);
    console
        .path("pages")
        .properties()
        .forEach(
            p ->
                assertThat(p.getValue().path("medianMillis").asDouble())
                    .as(p.getKey())
                    .isPositive());
    assertThat(console.at("/overviewStream/events").asInt())
        .as("overview events over the stream's window")
        .isPositive();
    assertThat(console.at("/overviewStream/schedulerCpuSecondsPerMinuteWithStream").isNumber())
        .isTrue();
    assertThat(console.at("/overviewStream/schedulerCpuMillisPerOverview").isNumber()).isTrue();
    JsonNode against = r.path("againstCelery");
    assertThat(against.at("/shepherd/backlog/drainJobsPerSecond").asDouble()).isPositive();
    assertThat(against.at("/shepherd/live/jobsPerSecond").asDouble()).isPositive();
    JsonNode celery = against.path("celery");
    if (celery.has("skipped")) {
      // CI machines have Celery only if a build step installs it: the scenario says why it did not
      // run, and this test goes on without it.
      assertThat(celery.path("skipped").asString()).startsWith("skipped: ").contains("python3-");
      System.out.println("BenchQuickIT: the Celery scenario was " + celery.path("skipped"));
    } else {
      for (String way : new String[] {"backlog", "live"}) {
        assertThat(celery.path(way).path("succeeded").asInt())
            .as(way)
            .isEqualTo(celery.path(way).path("jobs").asInt());
        assertThat(against.at("/shepherdOverCelery/" + way).asDouble()).as(way).isPositive();
      }
      assertSteadyCpu(celery.at("/live/steadyCpu"), "Celery");
    }
    assertThat(Path.of(results.get("resultsFile").toString())).isRegularFile();
    assertThat(out.resolve("throughput-quick.png")).isRegularFile();
    assertThat(out.resolve("latency-quick.png")).isRegularFile();
    assertThat(out.resolve("scaling-quick.png")).isRegularFile();
    assertThat(out.resolve("latency-curve-quick.png")).isRegularFile();
    assertThat(Files.readString(out.resolve("table-quick.md")))
        .contains(
            "ratio",
            "durable",
            "Against Celery",
            "steady window",
            "Where the steady window goes",
            "JIT, GC and start-up",
            "Redis per job",
            "Scaling",
            "Load curve",
            "idle CPU, no job to run");
  }

  /** Calls per job by script and commands per job by name, adding up to the totals. */
  private static void assertRedisPerJob(JsonNode cost, String run) {
    JsonNode ops = cost.path("redisCallsPerJobByOp");
    assertThat(ops.properties()).as(run).anySatisfy(e -> assertThat(e.getKey()).contains("claim"));
    double sum = 0;
    for (var e : ops.properties()) {
      sum += e.getValue().asDouble();
    }
    assertThat(sum)
        .as(run + ": calls by script add up to the round trips")
        .isCloseTo(
            cost.path("redisRoundTripsPerJob").asDouble(),
            org.assertj.core.data.Offset.offset(0.1));
    assertThat(cost.path("redisCommandsPerJobByCommand").path("evalsha").asDouble())
        .as(run)
        .isPositive();
  }

  /** Samples past which a stage that takes a fifth of a process's CPU cannot be missing. */
  private static final long ENOUGH_SAMPLES = 100;

  /**
   * The 2-worker run's steady window was profiled (CPU) in every process, its stages add up to the
   * process's measured CPU per job, the JIT and GC were read from the threads, and a flame graph
   * was written per process; or the window was too short, and it says so.
   */
  private static void assertCpuByStage(JsonNode run, Path out) {
    JsonNode budget = run.path("stageBudget");
    assertThat(budget.isObject()).as("a stage budget for the 2-worker run").isTrue();
    if (budget.has("skipped")) {
      assertThat(run.path("steadyCpu").has("skipped")).isTrue();
      return;
    }
    assertThat(budget.has("failures")).as(budget.path("failures").toString()).isFalse();
    JsonNode steady = run.path("steadyCpu").path("cpuMicrosPerJob");
    assertThat(budget.path("events").size()).isEqualTo(steady.size());
    budget
        .path("events")
        .properties()
        .forEach(e -> assertThat(e.getValue().asString()).isIn("cpu", "ctimer", "itimer"));
    JsonNode byStage = budget.path("cpuMicrosPerJobByStage");
    steady
        .properties()
        .forEach(
            e -> {
              JsonNode stages = byStage.path(e.getKey());
              if (stages.isEmpty() && !e.getKey().equals("all processes")) {
                // a quick run's window can be too short for one process's profile to hold a
                // sample (seen for a worker on a quiet machine); the whole run's must
                return;
              }
              assertThat(stages.size()).as(e.getKey()).isEqualTo(12);
              assertThat(budget.at("/samples/" + e.getKey()).asLong()).as(e.getKey()).isPositive();
              double sum = 0;
              for (var s : stages.properties()) {
                assertThat(s.getValue().asDouble())
                    .as(e.getKey() + " " + s.getKey())
                    .isNotNegative();
                sum += s.getValue().asDouble();
              }
              // rounding each of the 12 stages moves the sum by at most 6
              assertThat(sum)
                  .as(e.getKey())
                  .isCloseTo(e.getValue().asDouble(), org.assertj.core.data.Offset.offset(6.0));
              assertThat(budget.at("/cpuMicrosPerJobWithoutJit/" + e.getKey()).asDouble())
                  .as(e.getKey())
                  .isBetween(0.0, e.getValue().asDouble());
              assertThat(budget.at("/threadCpuMicrosPerJob/" + e.getKey()).has("jit")).isTrue();
              assertThat(
                      out.resolve("flame")
                          .resolve(budget.at("/flameGraphs/" + e.getKey()).asString()))
                  .as(e.getKey())
                  .isRegularFile();
            });
    // the job's own path shows up: the workers claim and the status-tracker applies, in every
    // profile that holds enough samples for a stage of a fifth of the CPU to hold one (CI once
    // gave a worker's profile too few, when attaching took most of a quick run)
    budget
        .path("samples")
        .properties()
        .forEach(
            e -> {
              String stage =
                  e.getKey().startsWith("worker")
                      ? "claim"
                      : e.getKey().equals("status-tracker") ? "status apply" : null;
              if (stage != null && e.getValue().asLong() >= ENOUGH_SAMPLES) {
                assertThat(byStage.path(e.getKey()).path(stage).asDouble())
                    .as("%s, %s of %d samples", e.getKey(), stage, e.getValue().asLong())
                    .isPositive();
              }
            });
  }

  /** The 4-worker run's allocation profile: bytes per job by stage, and its flame graphs. */
  private static void assertAllocationsByStage(JsonNode budget, Path out) {
    assertThat(budget.isObject()).as("a stage budget for the 4-worker run").isTrue();
    if (budget.has("skipped")) {
      return;
    }
    assertThat(budget.path("kind").asString()).isEqualTo("alloc");
    double all = 0;
    for (var e : budget.at("/allocatedBytesPerJobByStage/all processes").properties()) {
      all += e.getValue().asDouble();
    }
    assertThat(all).as("bytes allocated per job").isPositive();
    budget
        .path("flameGraphs")
        .properties()
        .forEach(
            e -> assertThat(out.resolve("flame").resolve(e.getValue().asString())).isRegularFile());
  }

  /** A steady window was sampled, or the run was too short for one, and it says so. */
  private static void assertSteadyCpu(JsonNode steady, String run) {
    if (!steady.has("skipped")) {
      assertThat(steady.path("cpuMicrosPerJobAllProcesses").asDouble()).as(run).isPositive();
      assertThat(steady.path("cpuMicrosPerJob").size()).as(run).isGreaterThanOrEqualTo(2);
      if (steady.has("infrastructureCpuMicrosPerJob")) { // the broker and Redis, when readable
        assertThat(steady.path("cpuMicrosPerJobWithInfrastructure").asDouble())
            .as(run)
            .isGreaterThanOrEqualTo(steady.path("cpuMicrosPerJobAllProcesses").asDouble());
      }
    }
    assertThat(steady.isObject()).as(run).isTrue();
  }
}
