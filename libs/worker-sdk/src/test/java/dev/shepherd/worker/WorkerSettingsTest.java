package dev.shepherd.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class WorkerSettingsTest {

  @Test
  void theLeaseIsRenewedEveryThirdOfItsTtl() {
    var settings = new WorkerSettings("w", "default", 4, Duration.ofSeconds(30));

    assertThat(settings.renewEvery()).isEqualTo(Duration.ofSeconds(10));
    assertThat(settings.heartbeat()).isEqualTo(Duration.ofSeconds(5));
    assertThat(settings.podName()).isNull();
  }

  @Test
  void capacityMustBeAtLeastOne() {
    assertThatThrownBy(() -> new WorkerSettings("w", "default", 0, Duration.ofSeconds(30)))
        .hasMessageContaining("capacity");
  }

  @Test
  void theWorkerIdMustNotContainTheLeaseSeparator() {
    assertThatThrownBy(() -> new WorkerSettings("a|b", "default", 1, Duration.ofSeconds(30)))
        .hasMessageContaining("'|'");
    assertThatThrownBy(() -> new WorkerSettings(" ", "default", 1, Duration.ofSeconds(30)))
        .hasMessageContaining("workerId");
  }

  @Test
  void poolAndLeaseTtlAreRequired() {
    assertThatThrownBy(() -> new WorkerSettings("w", "", 1, Duration.ofSeconds(30)))
        .hasMessageContaining("pool");
    assertThatThrownBy(() -> new WorkerSettings("w", "default", 1, null))
        .hasMessageContaining("leaseTtl");
  }
}
