package dev.shepherd.scheduler;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.shepherd.model.BatchLimits;
import dev.shepherd.model.JobTimeouts;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.springframework.boot.context.properties.bind.BindException;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.context.properties.source.MapConfigurationPropertySource;

/** How {@code shepherd.scheduler.*} binds, as Spring binds it at start-up. */
class SchedulerPropertiesTest {

  private static SchedulerProperties bind(Map<String, String> properties) {
    return new Binder(new MapConfigurationPropertySource(properties))
        .bindOrCreate("shepherd.scheduler", SchedulerProperties.class);
  }

  /**
   * A submission that arrives alone waits this long for a companion before it is stored: 1 ms, not
   * the 2 ms that had every job at a trickle wait 2 ms (docs/BENCHMARKS.md, 2026-12-05).
   */
  @Test
  void aSubmitConsumerWaitsOneMillisecondForTheNextSubmissionUnlessConfigured() {
    assertThat(bind(Map.of()).submitBatchWait()).isEqualTo(java.time.Duration.ofMillis(1));
    assertThat(bind(Map.of("shepherd.scheduler.submit-batch-wait", "5ms")).submitBatchWait())
        .isEqualTo(java.time.Duration.ofMillis(5));
  }

  @Test
  void eachJobTypeMaySetItsAttemptTimeoutsThoughItsNameHasDots() {
    var properties =
        bind(
            Map.of(
                "shepherd.scheduler.timeouts.site.generate.start-to-close", "10m",
                "shepherd.scheduler.timeouts.site.generate.stall", "PT30S",
                "shepherd.scheduler.timeouts.demo.noop.stall", "2s"));
    assertThat(properties.timeoutsByType())
        .containsExactlyInAnyOrderEntriesOf(
            Map.of(
                "site.generate",
                new JobTimeouts(Duration.ofMinutes(10), Duration.ofSeconds(30)),
                "demo.noop",
                new JobTimeouts(null, Duration.ofSeconds(2))));
  }

  @Test
  void aJobTypeMayLimitEachOfItsPhases() {
    var properties =
        bind(
            Map.of(
                "shepherd.scheduler.timeouts.site.generate.phase.dashboard_render", "2m",
                "shepherd.scheduler.timeouts.site.generate.phase.publish", "PT30S",
                "shepherd.scheduler.timeouts.site.generate.stall", "1m"));
    assertThat(properties.timeoutsByType())
        .containsExactly(
            Map.entry(
                "site.generate",
                new JobTimeouts(
                    null,
                    Duration.ofMinutes(1),
                    Map.of(
                        "dashboard_render", Duration.ofMinutes(2),
                        "publish", Duration.ofSeconds(30)))));
  }

  @Test
  void aPhaseTimeoutWithoutAPhaseNameStopsTheStart() {
    assertThatThrownBy(
            () -> bind(Map.of("shepherd.scheduler.timeouts.site.generate.phase.", "10s")))
        .isInstanceOf(BindException.class)
        .rootCause()
        .hasMessageContaining("is not a timeout");
  }

  @Test
  void keysLimitsAndOrderingPoliciesBindThoughTypesHaveDots() {
    var properties =
        bind(
            Map.of(
                "shepherd.scheduler.default-concurrency-limit", "3",
                "shepherd.scheduler.concurrency-limit.[site.generate]", "2",
                "shepherd.scheduler.concurrency-key-limit.[tenant.9]", "5",
                "shepherd.scheduler.ordering-policy.[demo.flaky]", "block",
                "shepherd.scheduler.ordering-policy.[demo.noop]", "skip"));
    assertThat(properties.concurrencyLimits().limitOf("site.generate", "tenant.9")).isEqualTo(5);
    assertThat(properties.concurrencyLimits().limitOf("site.generate", "other")).isEqualTo(2);
    assertThat(properties.concurrencyLimits().limitOf("demo.noop", "other")).isEqualTo(3);
    assertThat(properties.typesThatBlockTheirKey()).containsExactly("demo.flaky");
  }

  @Test
  void anUnknownOrderingPolicyOrALimitBelowOneStopsTheStart() {
    assertThatThrownBy(() -> bind(Map.of("shepherd.scheduler.ordering-policy.[a.b]", "wait")))
        .isInstanceOf(BindException.class)
        .rootCause()
        .hasMessageContaining("must be skip or block");
    assertThatThrownBy(() -> bind(Map.of("shepherd.scheduler.default-concurrency-limit", "0")))
        .isInstanceOf(BindException.class)
        .rootCause()
        .hasMessageContaining("at least 1");
  }

  @Test
  void batchSizesMakeBatchTypesWithAMebibyteUnlessTheyNameTheirOwnByteLimit() {
    var properties =
        bind(
            Map.of(
                "shepherd.scheduler.batch-size.[webhook.deliver]", "50",
                "shepherd.scheduler.batch-size.[demo.noop]", "4",
                "shepherd.scheduler.batch-bytes.[demo.noop]", "0"));
    assertThat(properties.batches())
        .containsOnly(
            Map.entry("webhook.deliver", new BatchLimits(50, 1024 * 1024)),
            Map.entry("demo.noop", new BatchLimits(4, 0)));
    assertThat(bind(Map.of()).batches()).isEmpty();
  }

  @Test
  void aBatchOfOneOrAByteLimitWithoutABatchSizeStopsTheStart() {
    assertThatThrownBy(() -> bind(Map.of("shepherd.scheduler.batch-size.[a.b]", "1")))
        .isInstanceOf(BindException.class)
        .rootCause()
        .hasMessageContaining("batch-size.a.b must be at least 2");
    assertThatThrownBy(() -> bind(Map.of("shepherd.scheduler.batch-bytes.[a.b]", "100")))
        .isInstanceOf(BindException.class)
        .rootCause()
        .hasMessageContaining("for a type with a batch-size");
  }

  @Test
  void withoutTimeoutsNoTypeHasAny() {
    assertThat(bind(Map.of()).timeoutsByType()).isEmpty();
  }

  @Test
  void aTimeoutThatIsNotPositiveStopsTheStartNamingTheProperty() {
    assertThatThrownBy(() -> bind(Map.of("shepherd.scheduler.timeouts.demo.noop.stall", "0s")))
        .isInstanceOf(BindException.class)
        .rootCause()
        .hasMessageContaining("shepherd.scheduler.timeouts.demo.noop.stall must be a positive");
  }

  @Test
  void aTimeoutThatIsNotADurationStopsTheStartNamingTheProperty() {
    assertThatThrownBy(() -> bind(Map.of("shepherd.scheduler.timeouts.demo.noop.stall", "soon")))
        .isInstanceOf(BindException.class)
        .hasStackTraceContaining("shepherd.scheduler.timeouts.demo.noop.stall must be a duration");
  }

  @Test
  void anUnknownTimeoutNameStopsTheStart() {
    assertThatThrownBy(() -> bind(Map.of("shepherd.scheduler.timeouts.demo.noop.heartbeat", "10s")))
        .isInstanceOf(BindException.class)
        .rootCause()
        .hasMessageContaining("shepherd.scheduler.timeouts.demo.noop.heartbeat is not a timeout");
  }

  @Test
  void theDispatchKnobsDefaultToTheValuesTheSchedulerAlwaysUsed() {
    var properties = bind(Map.of());
    assertThat(properties.dispatchUnconfirmedRetry()).isEqualTo(Duration.ofSeconds(1));
    assertThat(properties.dispatchErrorBackoff()).isEqualTo(Duration.ofSeconds(1));
    assertThat(properties.cancelPrefetch()).isEqualTo(10);
  }

  @Test
  void aDispatchWaitThatIsNotPositiveStopsTheStartNamingTheProperty() {
    assertThatThrownBy(() -> bind(Map.of("shepherd.scheduler.dispatch-error-backoff", "0s")))
        .isInstanceOf(BindException.class)
        .rootCause()
        .hasMessageContaining("shepherd.scheduler.dispatch-error-backoff must be positive");
    assertThatThrownBy(() -> bind(Map.of("shepherd.scheduler.dispatch-unconfirmed-retry", "-1s")))
        .isInstanceOf(BindException.class)
        .rootCause()
        .hasMessageContaining("shepherd.scheduler.dispatch-unconfirmed-retry must be positive");
  }

  @Test
  void aCancelPrefetchBelowOneStopsTheStartNamingTheProperty() {
    assertThatThrownBy(() -> bind(Map.of("shepherd.scheduler.cancel-prefetch", "0")))
        .isInstanceOf(BindException.class)
        .rootCause()
        .hasMessageContaining("shepherd.scheduler.cancel-prefetch must be >= 1");
  }
}
