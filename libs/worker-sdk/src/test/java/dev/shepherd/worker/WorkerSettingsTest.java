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
    assertThat(settings.ackHold()).isEqualTo(Duration.ofSeconds(1));
    assertThat(settings.cancelGrace()).isEqualTo(Duration.ofSeconds(10));
  }

  @Test
  void theAckHoldIsPositiveAndFarBelowTheConsumerTimeout() {
    var settings = new WorkerSettings("w", "default", 1, Duration.ofSeconds(30));
    assertThatThrownBy(() -> settings.withAckHold(Duration.ZERO)).hasMessageContaining("ackHold");
    assertThatThrownBy(() -> settings.withAckHold(Duration.ofMinutes(5).plusMillis(1)))
        .hasMessageContaining("ackHold");
    assertThat(settings.withAckHold(Duration.ofMillis(1)).ackHold())
        .isEqualTo(Duration.ofMillis(1));
  }

  @Test
  void theCancelGraceMayBeZeroButNotNegative() {
    var settings = new WorkerSettings("w", "default", 1, Duration.ofSeconds(30));
    assertThatThrownBy(() -> settings.withCancelGrace(Duration.ofMillis(-1)))
        .hasMessageContaining("cancelGrace");
    assertThatThrownBy(() -> settings.withCancelGrace(null)).hasMessageContaining("cancelGrace");
    assertThat(settings.withCancelGrace(Duration.ZERO).cancelGrace()).isZero();
    assertThat(settings.withCancelGrace(Duration.ZERO).withAckHold(Duration.ofSeconds(2)))
        .extracting(WorkerSettings::cancelGrace)
        .isEqualTo(Duration.ZERO);
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

  @Test
  void theWorkersKnobsDefaultToWhatItUsedToHardCodeAndABackoffMustNotExceedItsMaximum() {
    var settings = new WorkerSettings("w", "default", 1, Duration.ofSeconds(30));

    assertThat(settings.noHandlerPause()).isEqualTo(Duration.ofSeconds(2));
    assertThat(settings.outcomePublishTries()).isEqualTo(20);
    assertThat(settings.errorBackoffs().before(1)).isEqualTo(Duration.ofMillis(100));
    assertThat(settings.errorBackoffs().before(10)).isEqualTo(Duration.ofSeconds(5));
    assertThatThrownBy(
            () ->
                WorkerSettings.requireBackoff(
                    "errorBackoff",
                    Duration.ofSeconds(6),
                    "errorMaxBackoff",
                    Duration.ofSeconds(5)))
        .hasMessageContaining("errorBackoff must be positive and at most errorMaxBackoff");
  }
}
