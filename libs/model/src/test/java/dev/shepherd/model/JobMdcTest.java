package dev.shepherd.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.entry;

import org.junit.jupiter.api.Test;

class JobMdcTest {

  @Test
  void anAttemptsLogContextNamesItsJobAttemptWorkerAndToken() {
    assertThat(JobMdc.of("07-a", 2, "w-1", 9L))
        .containsExactly(
            entry("jobId", "07-a"),
            entry("attempt", "2"),
            entry("workerId", "w-1"),
            entry("fencingToken", "9"));
  }

  @Test
  void anUnknownTokenIsLeftOutAndAMissingWorkerSaysNull() {
    assertThat(JobMdc.of("07-a", 1, null, null))
        .containsOnlyKeys("jobId", "attempt", "workerId")
        .containsEntry("workerId", "null");
  }
}
