package dev.shepherd.scheduler.console;

import dev.shepherd.model.PhaseView;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * A job's phases as bars on one time axis, like a trace view: the axis runs from the first phase's
 * start to the last end (a phase still open ends {@code now}); each bar is placed by its offset and
 * width in percent of the axis.
 *
 * @param start where the axis begins; null when there are no phases
 * @param span how long the axis is
 * @param bars one per phase, by attempt and start
 */
public record Timeline(Instant start, Duration span, List<Bar> bars) {

  /** Narrower bars than this are widened to it, so that a 1 ms phase is still seen. */
  static final double MIN_WIDTH_PERCENT = 0.5;

  /**
   * One phase as a bar.
   *
   * @param open whether the phase has not ended yet (it is drawn to {@code now})
   */
  public record Bar(
      int attempt,
      String name,
      double offsetPercent,
      double widthPercent,
      Duration duration,
      boolean open) {}

  public Timeline {
    bars = List.copyOf(bars);
  }

  /** The phases' bars; a phase without a start is left out (it never began). */
  public static Timeline of(List<PhaseView> phases, Instant now) {
    List<PhaseView> started =
        phases == null
            ? List.of()
            : phases.stream()
                .filter(p -> p.startedAt() != null)
                .sorted(
                    java.util.Comparator.comparingInt(PhaseView::attempt)
                        .thenComparing(PhaseView::startedAt))
                .toList();
    if (started.isEmpty()) {
      return new Timeline(null, Duration.ZERO, List.of());
    }
    Instant start = started.stream().map(PhaseView::startedAt).min(Instant::compareTo).get();
    Instant end = start;
    for (PhaseView p : started) {
      Instant e = endOf(p, now);
      if (e.isAfter(end)) {
        end = e;
      }
    }
    Duration span = Duration.between(start, end);
    double spanMillis = Math.max(1, span.toMillis());
    List<Bar> bars = new ArrayList<>();
    for (PhaseView p : started) {
      Instant e = endOf(p, now);
      Duration length = Duration.between(p.startedAt(), e);
      double width =
          Math.min(100.0, Math.max(MIN_WIDTH_PERCENT, length.toMillis() * 100.0 / spanMillis));
      // a bar of (almost) no time at the axis' end is drawn ending there, not beyond it
      double offset =
          Math.min(
              100.0 - width,
              Duration.between(start, p.startedAt()).toMillis() * 100.0 / spanMillis);
      bars.add(new Bar(p.attempt(), p.name(), offset, width, length, p.endedAt() == null));
    }
    return new Timeline(start, span, bars);
  }

  private static Instant endOf(PhaseView phase, Instant now) {
    if (phase.endedAt() != null) {
      return phase.endedAt();
    }
    return now.isBefore(phase.startedAt()) ? phase.startedAt() : now;
  }
}
