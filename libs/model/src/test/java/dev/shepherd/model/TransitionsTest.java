package dev.shepherd.model;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.EnumSet;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class TransitionsTest {

  /** The allowed changes, written out independently of the table so a typo in either shows. */
  private static final Map<String, JobState> EXPECTED =
      Map.ofEntries(
          Map.entry("SUBMITTED/SCHEDULE", JobState.SCHEDULED),
          Map.entry("SUBMITTED/DISPATCH", JobState.QUEUED),
          Map.entry("SCHEDULED/DISPATCH", JobState.QUEUED),
          Map.entry("RETRY_WAIT/DISPATCH", JobState.QUEUED),
          Map.entry("QUEUED/CLAIM", JobState.RUNNING),
          Map.entry("RUNNING/SUCCEED", JobState.SUCCEEDED),
          Map.entry("RUNNING/FAIL_RETRYABLE", JobState.RETRY_WAIT),
          Map.entry("RUNNING/FAIL_PERMANENT", JobState.DEAD),
          Map.entry("RUNNING/LEASE_EXPIRED", JobState.RETRY_WAIT),
          Map.entry("RUNNING/ATTEMPTS_EXHAUSTED", JobState.DEAD),
          Map.entry("RETRY_WAIT/SUCCEED", JobState.SUCCEEDED),
          Map.entry("RETRY_WAIT/FAIL_RETRYABLE", JobState.RETRY_WAIT),
          Map.entry("RETRY_WAIT/FAIL_PERMANENT", JobState.DEAD),
          Map.entry("RETRY_WAIT/ATTEMPTS_EXHAUSTED", JobState.DEAD),
          Map.entry("QUEUED/SUCCEED", JobState.SUCCEEDED),
          Map.entry("QUEUED/FAIL_RETRYABLE", JobState.RETRY_WAIT),
          Map.entry("QUEUED/FAIL_PERMANENT", JobState.DEAD),
          Map.entry("DEAD/REDRIVE", JobState.QUEUED),
          Map.entry("SUBMITTED/UNROUTABLE", JobState.DEAD),
          Map.entry("SCHEDULED/UNROUTABLE", JobState.DEAD),
          Map.entry("RETRY_WAIT/UNROUTABLE", JobState.DEAD),
          Map.entry("QUEUED/UNROUTABLE", JobState.DEAD),
          Map.entry("SUBMITTED/CANCEL", JobState.CANCELLED),
          Map.entry("SCHEDULED/CANCEL", JobState.CANCELLED),
          Map.entry("QUEUED/CANCEL", JobState.CANCELLED),
          Map.entry("RUNNING/CANCEL", JobState.CANCELLED),
          Map.entry("RETRY_WAIT/CANCEL", JobState.CANCELLED));

  static Stream<Arguments> everyStateAndEvent() {
    return EnumSet.allOf(JobState.class).stream()
        .flatMap(s -> EnumSet.allOf(JobEvent.class).stream().map(e -> Arguments.of(s, e)));
  }

  @ParameterizedTest(name = "{0} + {1}")
  @MethodSource("everyStateAndEvent")
  void everyPairIsEitherTheDocumentedChangeOrRefused(JobState state, JobEvent event) {
    JobState expected = EXPECTED.get(state + "/" + event);
    assertThat(Transitions.next(state, event)).isEqualTo(java.util.Optional.ofNullable(expected));
    assertThat(Transitions.allowed(state, event)).isEqualTo(expected != null);
  }

  static Stream<Arguments> terminalStatesAndNonRedriveEvents() {
    return everyStateAndEvent()
        .filter(a -> ((JobState) a.get()[0]).isTerminal() && a.get()[1] != JobEvent.REDRIVE);
  }

  @ParameterizedTest(name = "{0} + {1}")
  @MethodSource("terminalStatesAndNonRedriveEvents")
  void terminalStatesLeaveOnlyByRedrive(JobState state, JobEvent event) {
    assertThat(Transitions.allowed(state, event)).isFalse();
  }
}
