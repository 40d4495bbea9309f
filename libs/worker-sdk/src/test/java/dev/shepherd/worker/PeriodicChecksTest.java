package dev.shepherd.worker;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * The periods of the checks that replaced a timer per job (the lease deadlines, the ack holds): a
 * check ends what is due up to one period early, so the period must stay a small part of what it
 * checks, and never zero.
 */
class PeriodicChecksTest {

  @Test
  void leaseDeadlinesAreCheckedTwentyTimesPerTrustAtMostEveryQuarterSecond() {
    assertThat(LeaseKeeper.deadlineCheck(LeaseKeeper.trustedFor(Duration.ofSeconds(30))))
        .isEqualTo(Duration.ofMillis(250));
    assertThat(LeaseKeeper.deadlineCheck(LeaseKeeper.trustedFor(Duration.ofSeconds(3))))
        .isEqualTo(Duration.ofMillis(125));
    assertThat(LeaseKeeper.deadlineCheck(Duration.ofMillis(10))).isEqualTo(Duration.ofMillis(1));
  }

  @Test
  void ackHoldsAreCheckedTenTimesPerHoldAtMostEveryTenthOfASecond() {
    assertThat(Slots.holdCheck(Duration.ofSeconds(1))).isEqualTo(Duration.ofMillis(100));
    assertThat(Slots.holdCheck(Duration.ofMillis(300))).isEqualTo(Duration.ofMillis(30));
    assertThat(Slots.holdCheck(Duration.ofMillis(5))).isEqualTo(Duration.ofMillis(1));
  }
}
