package dev.shepherd.engine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.shepherd.model.JobState;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class JobOutcomeMetersTest {

  private final SimpleMeterRegistry meters = new SimpleMeterRegistry();
  private final JobOutcomeMeters outcomes = new JobOutcomeMeters(meters);

  private double count(String name) {
    var counter = meters.find(name).tags("type", "site.generate", "pool", "default").counter();
    return counter == null ? 0 : counter.count();
  }

  @Test
  void retryWaitCountsAsRetriedUnderTheJobsTypeAndPool() {
    outcomes.count(JobState.RETRY_WAIT, "site.generate", "default");
    assertThat(count("shepherd.jobs.retried")).isEqualTo(1);
    assertThat(count("shepherd.jobs.dead")).isZero();
  }

  @Test
  void deadCountsAsDeadWhetherNamedByTheEnumOrByAScriptsReply() {
    outcomes.count(JobState.DEAD, "site.generate", "default");
    outcomes.count("DEAD", "site.generate", "default");
    outcomes.dead("site.generate", "default");
    assertThat(count("shepherd.jobs.dead")).isEqualTo(3);
    assertThat(count("shepherd.jobs.retried")).isZero();
  }

  @ParameterizedTest
  @EnumSource(
      value = JobState.class,
      names = {"RETRY_WAIT", "DEAD"},
      mode = EnumSource.Mode.EXCLUDE)
  void everyOtherStateCountsNothing(JobState state) {
    outcomes.count(state, "site.generate", "default");
    outcomes.count((String) null, "site.generate", "default");
    assertThat(meters.getMeters()).isEmpty();
  }

  @Test
  void aMissingPoolIsTaggedAsNull() {
    outcomes.count("RETRY_WAIT", "site.generate", null);
    assertThat(meters.find("shepherd.jobs.retried").tags("pool", "null").counter().count())
        .isEqualTo(1);
  }
}
