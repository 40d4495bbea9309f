package dev.shepherd.worker.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class WorkerPropertiesTest {

  @Test
  void defaultsNameTheHostThePidAndFourRandomCharacters() {
    var properties = new WorkerProperties(null, null, null, null, null, null);

    assertThat(properties.id()).matches(".+-" + ProcessHandle.current().pid() + "-[a-z0-9]{4}");
    assertThat(properties.pool()).isEqualTo("default");
    assertThat(properties.capacity()).isEqualTo(4);
    assertThat(properties.shutdownGrace()).isEqualTo(Duration.ofSeconds(30));
  }

  @Test
  void twoDefaultIdsDiffer() {
    assertThat(WorkerProperties.defaultId()).isNotEqualTo(WorkerProperties.defaultId());
  }

  @Test
  void capacityBelowOneIsRefusedNamingTheProperty() {
    assertThatThrownBy(() -> new WorkerProperties("w", "default", 0, null, null, null))
        .hasMessageContaining("shepherd.worker.capacity must be >= 1");
  }
}
