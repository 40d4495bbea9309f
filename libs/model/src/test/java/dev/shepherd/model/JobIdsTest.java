package dev.shepherd.model;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class JobIdsTest {

  @Test
  void anIdNamesItsPartition() {
    for (int p = 0; p < 64; p++) {
      assertThat(JobIds.partitionOf(JobIds.newId(p), 64)).isEqualTo(p);
    }
  }

  @Test
  void anIdIsTwoDigitsADashAndThirtyTwoHexDigitsEachTimeNew() {
    assertThat(JobIds.newId(7)).matches("07-[0-9a-f]{32}");
    assertThat(JobIds.newId(42)).matches("42-[0-9a-f]{32}");
    assertThat(JobIds.newId(0)).isNotEqualTo(JobIds.newId(0));
  }

  @Test
  void foreignIdsHaveNoPartition() {
    assertThat(JobIds.partitionOf("nope", 16)).isEqualTo(-1);
    assertThat(JobIds.partitionOf("99-abc", 16)).isEqualTo(-1);
    assertThat(JobIds.partitionOf("ab-abc", 16)).isEqualTo(-1);
    assertThat(JobIds.partitionOf(null, 16)).isEqualTo(-1);
  }

  @Test
  void theSameKeyAlwaysMapsToTheSamePartition() {
    assertThat(JobIds.partitionForKey("order-42", 16))
        .isEqualTo(JobIds.partitionForKey("order-42", 16))
        .isBetween(0, 15);
  }
}
