package dev.shepherd.worker.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.RecordComponent;
import java.time.Duration;
import java.util.Arrays;
import java.util.Map;
import org.junit.jupiter.api.Test;

class WorkerPropertiesTest {

  /** The properties as Spring binds them with only {@code set} given (by component name). */
  private static WorkerProperties properties(Map<String, Object> set) {
    RecordComponent[] components = WorkerProperties.class.getRecordComponents();
    Object[] values = Arrays.stream(components).map(c -> set.get(c.getName())).toArray();
    try {
      return WorkerProperties.class
          .getDeclaredConstructor(
              Arrays.stream(components).map(RecordComponent::getType).toArray(Class<?>[]::new))
          .newInstance(values);
    } catch (InvocationTargetException e) {
      throw (RuntimeException) e.getCause(); // what the record's constructor refused
    } catch (ReflectiveOperationException e) {
      throw new AssertionError(e);
    }
  }

  @Test
  void defaultsNameTheHostThePidAndFourRandomCharacters() {
    var properties = properties(Map.of());

    assertThat(properties.id()).matches(".+-" + ProcessHandle.current().pid() + "-[a-z0-9]{4}");
    assertThat(properties.pool()).isEqualTo("default");
    assertThat(properties.capacity()).isEqualTo(4);
    assertThat(properties.shutdownGrace()).isEqualTo(Duration.ofSeconds(30));
    assertThat(properties.ackHold()).isEqualTo(Duration.ofSeconds(1));
    assertThat(properties.cancelGrace()).isEqualTo(Duration.ofSeconds(10));
  }

  @Test
  void theWorkersKnobsDefaultToWhatTheWorkerUsedToHardCode() {
    var properties = properties(Map.of());

    assertThat(properties.noHandlerPause()).isEqualTo(Duration.ofSeconds(2));
    assertThat(properties.outcomePublishTries()).isEqualTo(20);
    assertThat(properties.outcomePublishBackoff()).isEqualTo(Duration.ofMillis(250));
    assertThat(properties.outcomePublishMaxBackoff()).isEqualTo(Duration.ofSeconds(4));
    assertThat(properties.errorBackoff()).isEqualTo(Duration.ofMillis(100));
    assertThat(properties.errorMaxBackoff()).isEqualTo(Duration.ofSeconds(5));
  }

  @Test
  void twoDefaultIdsDiffer() {
    assertThat(WorkerProperties.defaultId()).isNotEqualTo(WorkerProperties.defaultId());
  }

  @Test
  void capacityBelowOneIsRefusedNamingTheProperty() {
    assertThatThrownBy(() -> properties(Map.of("capacity", 0)))
        .hasMessageContaining("shepherd.worker.capacity must be >= 1");
  }

  @Test
  void anAckHoldThatIsNotPositiveOrNearTheConsumerTimeoutIsRefusedNamingTheProperty() {
    for (Duration hold :
        new Duration[] {Duration.ZERO, Duration.ofMillis(-1), Duration.ofMinutes(6)}) {
      assertThatThrownBy(() -> properties(Map.of("ackHold", hold)))
          .hasMessageContaining("shepherd.worker.ack-hold must be positive and at most PT5M");
    }
    assertThat(properties(Map.of("ackHold", Duration.ofMinutes(5))).ackHold())
        .isEqualTo(Duration.ofMinutes(5));
  }

  @Test
  void aNegativeCancelGraceIsRefusedNamingThePropertyAndZeroMeansInterruptAtOnce() {
    assertThatThrownBy(() -> properties(Map.of("cancelGrace", Duration.ofMillis(-1))))
        .hasMessageContaining("shepherd.worker.cancel-grace must not be negative");
    assertThat(properties(Map.of("cancelGrace", Duration.ZERO)).cancelGrace()).isZero();
  }

  @Test
  void outcomePublishTriesBelowOneAreRefusedNamingTheProperty() {
    assertThatThrownBy(() -> properties(Map.of("outcomePublishTries", 0)))
        .hasMessageContaining("shepherd.worker.outcome-publish-tries must be >= 1");
  }

  @Test
  void aBackoffLongerThanItsMaximumIsRefusedNamingBothProperties() {
    assertThatThrownBy(() -> properties(Map.of("errorBackoff", Duration.ofSeconds(10))))
        .hasMessageContaining(
            "shepherd.worker.error-backoff must be positive and at most"
                + " shepherd.worker.error-max-backoff");
  }
}
