package dev.shepherd.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.shepherd.e2e.soak.Soak;
import dev.shepherd.testsupport.ServiceEndpoints;
import dev.shepherd.testsupport.WithRealServices;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Runs {@code make soak}'s small version (2,000 jobs, 5 s retention, a private Redis), so the soak
 * cannot rot and the memory bound is checked on every {@code make test}.
 */
@WithRealServices
class SoakQuickIT {

  @Test
  void afterTheRetentionRedisIsBackWhereItStartedWithNoOrphan(ServiceEndpoints endpoints)
      throws Exception {
    Map<String, Object> r =
        Soak.run(
            Soak.Config.quick(),
            endpoints.rabbitmq(),
            Cluster.repositoryRoot().resolve("e2e-tests/target/soak-quick"));

    assertThat(r.get("jobKeysLeft")).as("keys of jobs left").isEqualTo(0);
    assertThat(r.get("orphans")).as("orphans: %s", r.get("orphanExamples")).isEqualTo(0);
    assertThat((long) r.get("usedMemoryPeak")).isGreaterThan((long) r.get("usedMemoryBefore"));
    assertThat((long) r.get("usedMemoryAfter"))
        .isLessThanOrEqualTo(
            Math.round((long) r.get("usedMemoryBefore") * (1 + Soak.MEMORY_TOLERANCE)));
    assertThat(r.get("passed")).isEqualTo(true);
  }
}
