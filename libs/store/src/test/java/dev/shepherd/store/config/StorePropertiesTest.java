package dev.shepherd.store.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.context.properties.source.MapConfigurationPropertySource;

class StorePropertiesTest {

  /**
   * The properties as Spring binds them from {@code shepherd.store.*}, given as name and value in
   * turn ({@code "lease-ttl", "3s"}): the names a deployment writes, nothing else set.
   */
  private static StoreProperties bound(String... namesAndValues) {
    Map<String, String> properties = new HashMap<>();
    for (int i = 0; i < namesAndValues.length; i += 2) {
      properties.put("shepherd.store." + namesAndValues[i], namesAndValues[i + 1]);
    }
    return new Binder(new MapConfigurationPropertySource(properties))
        .bindOrCreate("shepherd.store", StoreProperties.class);
  }

  private static StoreProperties withLeaseTtl(Duration ttl) {
    return ttl == null ? bound() : bound("lease-ttl", ttl.toMillis() + "ms");
  }

  @Test
  void redisCommandsTimeOutWithinAQuarterOfTheLeaseTtlWhateverLettuceWouldWait() {
    StoreProperties defaults = withLeaseTtl(null);
    // Lettuce's own default is a minute: longer than the whole 30 s lease
    assertThat(defaults.redisCommandTimeout(null)).isEqualTo(Duration.ofMillis(7_500));
    assertThat(defaults.redisCommandTimeout(Duration.ofSeconds(60)))
        .isEqualTo(Duration.ofMillis(7_500));
    assertThat(withLeaseTtl(Duration.ofSeconds(3)).redisCommandTimeout(Duration.ofSeconds(2)))
        .isEqualTo(Duration.ofMillis(750));
  }

  @Test
  void aShorterConfiguredTimeoutIsKept() {
    assertThat(withLeaseTtl(null).redisCommandTimeout(Duration.ofSeconds(2)))
        .isEqualTo(Duration.ofSeconds(2));
  }

  @Test
  void theCapIsBelowAThirdOfTheLeaseTtlSoARenewalNeverOutlivesItsBeat() {
    for (long ms : new long[] {300, 1_000, 3_000, 30_000, 120_000}) {
      Duration ttl = Duration.ofMillis(ms);
      assertThat(withLeaseTtl(ttl).redisCommandTimeout(null)).isLessThan(ttl.dividedBy(3));
    }
  }

  private static StoreProperties withDeadRetention(String deadRetention) {
    return deadRetention == null ? bound() : bound("dead-retention", deadRetention);
  }

  @Test
  void deadJobsAreKeptThirtyDaysAndFinishedJobsSevenByDefault() {
    var settings = withDeadRetention(null).settings();

    assertThat(settings.retention()).isEqualTo(Duration.ofDays(7));
    assertThat(settings.deadRetention()).isEqualTo(Duration.ofDays(30));
  }

  @Test
  void zeroKeepsDeadJobsForGood() {
    assertThat(withDeadRetention("0s").settings().deadRetention()).isZero();
  }

  @Test
  void aNegativeRetentionIsRefusedNamingTheProperty() {
    assertThatThrownBy(() -> withDeadRetention("-1s"))
        .hasStackTraceContaining("shepherd.store.dead-retention");
  }

  @Test
  void aReleasedLastAttemptWaitsAMinuteForItsOutcomeUnlessConfigured() {
    assertThat(bound().settings().lateOutcomeGrace()).isEqualTo(Duration.ofMinutes(1));
    assertThat(bound("late-outcome-grace", "5s").settings().lateOutcomeGrace())
        .isEqualTo(Duration.ofSeconds(5));
    assertThatThrownBy(() -> bound("late-outcome-grace", "0s").settings())
        .hasMessageContaining("late-outcome-grace");
  }

  @Test
  void submissionsCountAsAcceptedOnTheMastersReplyUnlessReplicasAreAsked() {
    var asked = bound("replicas-to-acknowledge", "1", "replication-timeout", "500ms");

    assertThat(bound().settings().replicasToAcknowledge()).isZero();
    assertThat(asked.settings().replicasToAcknowledge()).isEqualTo(1);
    assertThat(asked.settings().replicationTimeout()).isEqualTo(Duration.ofMillis(500));
    assertThatThrownBy(() -> bound("replicas-to-acknowledge", "-1").settings())
        .hasMessageContaining("replicas-to-acknowledge");
  }

  @Test
  void theJobPathTakesTheBlockingClientUnlessTurnedOff() {
    assertThat(bound().blockingClient()).isTrue();
    assertThat(bound("blocking-client", "false").blockingClient()).isFalse();
  }
}
