package dev.shepherd.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.shepherd.e2e.bench.RedisCalls;
import dev.shepherd.testsupport.ServiceEndpoints;
import dev.shepherd.testsupport.WithRealServices;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Runs {@code make bench-redis-calls}'s probe small (50 calls a second for a second, each client in
 * its own JVM), so that it cannot rot. It checks that each client made its calls and that a CPU
 * figure came back, not how large it is: that is docs/BENCHMARKS.md's.
 */
@WithRealServices
class RedisCallsIT {

  @Test
  void eachClientMakesItsCallsAndReportsItsCpuPerCall(ServiceEndpoints endpoints) throws Exception {
    List<Map<String, Object>> runs =
        RedisCalls.compare(endpoints.redis(), List.of(50.0), Duration.ofSeconds(1), 1);

    assertThat(runs).extracting(r -> r.get("client")).containsExactly("lettuce", "jedis");
    assertThat(runs)
        .allSatisfy(
            r -> {
              assertThat(((Number) r.get("calls")).longValue()).isEqualTo(50);
              assertThat(((Number) r.get("cpuMicrosPerCall")).doubleValue()).isPositive();
            });
  }
}
