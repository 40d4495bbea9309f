package dev.shepherd.recovery;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.springframework.boot.context.properties.bind.BindException;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.context.properties.source.MapConfigurationPropertySource;

/** How {@code shepherd.recovery.*} binds, as Spring binds it at start-up. */
class RecoveryPropertiesTest {

  private static RecoveryProperties bind(Map<String, String> properties) {
    return new Binder(new MapConfigurationPropertySource(properties))
        .bindOrCreate("shepherd.recovery", RecoveryProperties.class);
  }

  @Test
  void theTuningKnobsDefaultToTheValuesTheServiceAlwaysUsed() {
    var properties = bind(Map.of());
    assertThat(properties.overCapacityGrace()).isEqualTo(Duration.ofSeconds(10));
    assertThat(properties.errorBackoff()).isEqualTo(Duration.ofSeconds(1));
    assertThat(properties.housekeepingErrorBackoff()).isEqualTo(Duration.ofSeconds(5));
    assertThat(properties.staleQueuedBatchSize()).isEqualTo(500);
    assertThat(properties.trimBatchSize()).isEqualTo(500);
    assertThat(properties.deadLetterPrefetch()).isEqualTo(50);
  }

  @Test
  void aZeroOverCapacityGraceCountsEveryRunningLease() {
    assertThat(bind(Map.of("shepherd.recovery.over-capacity-grace", "0s")).overCapacityGrace())
        .isZero();
  }

  @ParameterizedTest
  @CsvSource({
    "over-capacity-grace, -1s, must not be negative",
    "error-backoff, 0s, must be positive",
    "housekeeping-error-backoff, 0s, must be positive",
    "stale-queued-batch-size, 0, must be >= 1",
    "trim-batch-size, 0, must be >= 1",
    "dead-letter-prefetch, 0, must be >= 1"
  })
  void aValueOutOfRangeStopsTheStartNamingTheProperty(String name, String value, String rule) {
    assertThatThrownBy(() -> bind(Map.of("shepherd.recovery." + name, value)))
        .isInstanceOf(BindException.class)
        .rootCause()
        .hasMessageContaining("shepherd.recovery." + name + " " + rule);
  }
}
