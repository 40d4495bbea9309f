package dev.shepherd.scheduler.console;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.shepherd.model.PhaseView;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class TimelineTest {

  private static final Instant T0 = Instant.parse("2026-12-01T10:00:00Z");

  private static PhaseView phase(int attempt, String name, long fromMs, Long toMs) {
    return new PhaseView(
        attempt,
        name,
        T0.plusMillis(fromMs),
        toMs == null ? null : T0.plusMillis(toMs),
        toMs == null ? null : toMs - fromMs);
  }

  @Test
  void barsArePlacedByTheirOffsetAndWidthOnOneAxisFromTheFirstStartToTheLastEnd() {
    Timeline t =
        Timeline.of(
            List.of(phase(1, "fetch", 0, 250L), phase(1, "render", 250, 1000L)), T0.plusSeconds(5));
    assertThat(t.start()).isEqualTo(T0);
    assertThat(t.span()).isEqualTo(Duration.ofSeconds(1));
    assertThat(t.bars()).extracting(Timeline.Bar::name).containsExactly("fetch", "render");
    assertThat(t.bars().get(0).offsetPercent()).isCloseTo(0, within(0.001));
    assertThat(t.bars().get(0).widthPercent()).isCloseTo(25, within(0.001));
    assertThat(t.bars().get(1).offsetPercent()).isCloseTo(25, within(0.001));
    assertThat(t.bars().get(1).widthPercent()).isCloseTo(75, within(0.001));
  }

  @Test
  void aPhaseStillRunningReachesNowAndIsMarkedOpen() {
    Timeline t =
        Timeline.of(
            List.of(phase(1, "fetch", 0, 500L), phase(1, "render", 500, null)), T0.plusSeconds(2));
    assertThat(t.span()).isEqualTo(Duration.ofSeconds(2));
    Timeline.Bar open = t.bars().get(1);
    assertThat(open.open()).isTrue();
    assertThat(open.duration()).isEqualTo(Duration.ofMillis(1500));
    assertThat(open.offsetPercent() + open.widthPercent()).isCloseTo(100, within(0.001));
  }

  @Test
  void aPhaseOfNoTimeIsStillDrawnAndNoBarLeavesTheAxis() {
    Timeline t =
        Timeline.of(List.of(phase(1, "a", 0, 10_000L), phase(2, "instant", 10_000, 10_000L)), T0);
    Timeline.Bar instant = t.bars().get(1);
    assertThat(instant.widthPercent()).isEqualTo(Timeline.MIN_WIDTH_PERCENT);
    assertThat(instant.offsetPercent() + instant.widthPercent()).isLessThanOrEqualTo(100.0);
  }

  @Test
  void barsGoByAttemptThenStart() {
    Timeline t =
        Timeline.of(List.of(phase(2, "second", 2000, 3000L), phase(1, "first", 0, 1000L)), T0);
    assertThat(t.bars()).extracting(Timeline.Bar::attempt).containsExactly(1, 2);
  }

  @Test
  void noPhasesMakeAnEmptyTimeline() {
    assertThat(Timeline.of(null, T0).bars()).isEmpty();
    assertThat(Timeline.of(List.of(new PhaseView(1, "never", null, null, null)), T0).bars())
        .isEmpty();
  }
}
