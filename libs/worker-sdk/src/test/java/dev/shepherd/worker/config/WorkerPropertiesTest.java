package dev.shepherd.worker.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class WorkerPropertiesTest {

  @Test
  void defaultsNameTheHostThePidAndFourRandomCharacters() {
    var properties = new WorkerProperties(null, null, null, null, null, null, null, null);

    assertThat(properties.id()).matches(".+-" + ProcessHandle.current().pid() + "-[a-z0-9]{4}");
    assertThat(properties.pool()).isEqualTo("default");
    assertThat(properties.capacity()).isEqualTo(4);
    assertThat(properties.shutdownGrace()).isEqualTo(Duration.ofSeconds(30));
    assertThat(properties.ackHold()).isEqualTo(Duration.ofSeconds(1));
    assertThat(properties.cancelGrace()).isEqualTo(Duration.ofSeconds(10));
  }

  @Test
  void twoDefaultIdsDiffer() {
    assertThat(WorkerProperties.defaultId()).isNotEqualTo(WorkerProperties.defaultId());
  }

  @Test
  void capacityBelowOneIsRefusedNamingTheProperty() {
    assertThatThrownBy(() -> new WorkerProperties("w", "default", 0, null, null, null, null, null))
        .hasMessageContaining("shepherd.worker.capacity must be >= 1");
  }

  @Test
  void anAckHoldThatIsNotPositiveOrNearTheConsumerTimeoutIsRefusedNamingTheProperty() {
    for (Duration hold :
        new Duration[] {Duration.ZERO, Duration.ofMillis(-1), Duration.ofMinutes(6)}) {
      assertThatThrownBy(
              () -> new WorkerProperties("w", "default", 1, null, null, null, hold, null))
          .hasMessageContaining("shepherd.worker.ack-hold must be positive and at most PT5M");
    }
    assertThat(
            new WorkerProperties("w", "default", 1, null, null, null, Duration.ofMinutes(5), null)
                .ackHold())
        .isEqualTo(Duration.ofMinutes(5));
  }

  @Test
  void aNegativeCancelGraceIsRefusedNamingThePropertyAndZeroMeansInterruptAtOnce() {
    assertThatThrownBy(
            () ->
                new WorkerProperties(
                    "w", "default", 1, null, null, null, null, Duration.ofMillis(-1)))
        .hasMessageContaining("shepherd.worker.cancel-grace must not be negative");
    assertThat(
            new WorkerProperties("w", "default", 1, null, null, null, null, Duration.ZERO)
                .cancelGrace())
        .isZero();
  }
}
