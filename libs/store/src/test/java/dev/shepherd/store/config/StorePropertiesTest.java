package dev.shepherd.store.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class StorePropertiesTest {

  private static StoreProperties withLeaseTtl(Duration ttl) {
    return new StoreProperties(
        null, null, null, null, ttl, null, null, null, null, null, null, null, null);
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

  private static StoreProperties withRetentions(Duration retention, Duration deadRetention) {
    return new StoreProperties(
        null, null, retention, deadRetention, null, null, null, null, null, null, null, null, null);
  }

  @Test
  void deadJobsAreKeptThirtyDaysAndFinishedJobsSevenByDefault() {
    var settings = withRetentions(null, null).settings();

    assertThat(settings.retention()).isEqualTo(Duration.ofDays(7));
    assertThat(settings.deadRetention()).isEqualTo(Duration.ofDays(30));
  }

  @Test
  void zeroKeepsDeadJobsForGood() {
    assertThat(withRetentions(null, Duration.ZERO).settings().deadRetention()).isZero();
  }

  @Test
  void aNegativeRetentionIsRefusedNamingTheProperty() {
    assertThatThrownBy(() -> withRetentions(null, Duration.ofSeconds(-1)))
        .hasMessageContaining("shepherd.store.dead-retention");
  }

  @Test
  void aReleasedLastAttemptWaitsAMinuteForItsOutcomeUnlessConfigured() {
    var defaults =
        new StoreProperties(
            null, null, null, null, null, null, null, null, null, null, null, null, null);
    var configured =
        new StoreProperties(
            null,
            null,
            null,
            null,
            null,
            null,
            null,
            null,
            null,
            Duration.ofSeconds(5),
            null,
            null,
            null);

    assertThat(defaults.settings().lateOutcomeGrace()).isEqualTo(Duration.ofMinutes(1));
    assertThat(configured.settings().lateOutcomeGrace()).isEqualTo(Duration.ofSeconds(5));
    assertThatThrownBy(
            () ->
                new StoreProperties(
                        null,
                        null,
                        null,
                        null,
                        null,
                        null,
                        null,
                        null,
                        null,
                        Duration.ZERO,
                        null,
                        null,
                        null)
                    .settings())
        .hasMessageContaining("late-outcome-grace");
  }

  @Test
  void submissionsCountAsAcceptedOnTheMastersReplyUnlessReplicasAreAsked() {
    var defaults =
        new StoreProperties(
            null, null, null, null, null, null, null, null, null, null, null, null, null);
    var asked =
        new StoreProperties(
            null,
            null,
            null,
            null,
            null,
            null,
            null,
            null,
            null,
            null,
            1,
            Duration.ofMillis(500),
            null);

    assertThat(defaults.settings().replicasToAcknowledge()).isZero();
    assertThat(asked.settings().replicasToAcknowledge()).isEqualTo(1);
    assertThat(asked.settings().replicationTimeout()).isEqualTo(Duration.ofMillis(500));
    assertThatThrownBy(
            () ->
                new StoreProperties(
                        null, null, null, null, null, null, null, null, null, null, -1, null, null)
                    .settings())
        .hasMessageContaining("replicas-to-acknowledge");
  }
}
