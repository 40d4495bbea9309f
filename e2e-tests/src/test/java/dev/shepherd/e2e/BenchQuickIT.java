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
 * in docs/BENCHMARKS.md, never asserted.
 */
@WithRealServices
class BenchQuickIT {

  @Test
  void everyScenarioRunsAndWritesItsFiguresTableAndPlots(ServiceEndpoints endpoints)
      throws Exception {
    Path out = Cluster.repositoryRoot().resolve("e2e-tests/target/bench-quick");
    Map<String, Object> results = Bench.run(Bench.Config.quick(), out, endpoints);
    JsonNode r = Json.mapper().valueToTree(results);

    assertThat(r.path("rawBrokerMessagesPerSecond").asDouble()).isPositive();
    for (String workers : new String[] {"2 workers", "4 workers"}) {
      JsonNode t = r.path("throughput").path(workers);
      assertThat(t.path("jobsPerSecond").asDouble()).as(workers).isPositive();
      JsonNode cost = t.path("cost");
      assertThat(cost.path("durableMessagesPerJob").asDouble())
          .as(workers)
          .isGreaterThanOrEqualTo(2);
      assertThat(cost.path("redisRoundTripsPerJob").asDouble()).as(workers).isPositive();
      assertThat(cost.path("redisCommandsPerJob").asDouble()).as(workers).isPositive();
      assertThat(cost.path("cpuSecondsPer1000Jobs").size()).as(workers).isGreaterThanOrEqualTo(4);
    }
    for (String load : new String[] {"25%", "50%", "75%"}) {
      JsonNode l = r.path("latency").path(load);
      assertThat(l.path("jobs").asInt()).as(load).isPositive();
      assertThat(l.at("/submitToFinishMillis/p99").isNumber()).as(load).isTrue();
    }
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
    assertThat(Path.of(results.get("resultsFile").toString())).isRegularFile();
    assertThat(out.resolve("throughput-quick.png")).isRegularFile();
    assertThat(out.resolve("latency-quick.png")).isRegularFile();
    assertThat(Files.readString(out.resolve("table-quick.md"))).contains("ratio", "durable");
  }
}
