package dev.shepherd.model;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonInclude;
import java.time.Duration;
import java.util.Collections;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * The server-side timeouts of each attempt of a job, named by what they bound (ADR 18). All are
 * optional; an attempt past one is ended by the recovery service as a retryable failure named
 * {@code timeout:startToClose}, {@code timeout:stall} or {@code timeout:phase:<name>}.
 *
 * <pre>{@code
 * new JobTimeouts(Duration.ofMinutes(10), Duration.ofSeconds(30), Map.of("render", Duration.ofMinutes(2)))
 * // JSON: {"startToClose": "PT10M", "stall": "PT30S", "phases": {"render": "PT2M"}}
 * }</pre>
 *
 * @param startToClose the longest one attempt may run, from its claim; null for no limit
 * @param stall the longest a running attempt may go without an applied phase start, phase end,
 *     progress or heartbeat report; null for no limit
 * @param phases the longest each named phase may run, from its applied start; empty for none
 * @param scheduleToStart the longest the job may wait QUEUED for a worker to start it; null for no
 *     limit (recovery's {@code schedule-to-start-timeout} still re-publishes a lost message)
 * @param failAtScheduleToStart what the job type says to do past {@code scheduleToStart}: end the
 *     job DEAD ({@code timeout:scheduleToStart}) when true, publish it again when false; a job type
 *     setting, not part of a submission
 */
@JsonInclude(JsonInclude.Include.NON_EMPTY)
public record JobTimeouts(
    Duration startToClose,
    Duration stall,
    Map<String, Duration> phases,
    Duration scheduleToStart,
    @JsonIgnore Boolean failAtScheduleToStart) {

  /** No timeouts. */
  public static final JobTimeouts NONE = new JobTimeouts(null, null);

  public JobTimeouts {
    requirePositive("startToClose", startToClose);
    requirePositive("stall", stall);
    requirePositive("scheduleToStart", scheduleToStart);
    failAtScheduleToStart = Boolean.TRUE.equals(failAtScheduleToStart); // never null
    if (phases == null) {
      phases = Map.of();
    }
    phases.forEach(
        (name, limit) -> {
          if (name == null || name.isBlank() || name.length() > 100) {
            throw new IllegalArgumentException(
                "a phase timeout needs a phase name of 1 to 100 characters, was '" + name + "'");
          }
          if (limit == null) {
            throw new IllegalArgumentException("phases." + name + " needs a duration");
          }
          requirePositive("phases." + name, limit);
        });
    phases = Collections.unmodifiableMap(new TreeMap<>(phases));
  }

  /** Only the attempt-wide timeouts. */
  public JobTimeouts(Duration startToClose, Duration stall) {
    this(startToClose, stall, Map.of());
  }

  /** The attempt's and its phases' timeouts. */
  public JobTimeouts(Duration startToClose, Duration stall, Map<String, Duration> phases) {
    this(startToClose, stall, phases, null, false);
  }

  /** Whether any timeout is set (not a bean getter, so JSON does not carry it). */
  public boolean hasAny() {
    return startToClose != null || stall != null || !phases.isEmpty() || scheduleToStart != null;
  }

  /**
   * This job's own timeouts, each falling back to {@code defaults} where it sets none (a phase
   * limit per phase).
   */
  public JobTimeouts orElse(JobTimeouts defaults) {
    if (defaults == null) {
      return this;
    }
    Map<String, Duration> merged = new HashMap<>(defaults.phases);
    merged.putAll(phases);
    return new JobTimeouts(
        startToClose != null ? startToClose : defaults.startToClose,
        stall != null ? stall : defaults.stall,
        merged,
        scheduleToStart != null ? scheduleToStart : defaults.scheduleToStart,
        defaults.failAtScheduleToStart);
  }

  private static void requirePositive(String name, Duration value) {
    if (value != null && !value.isPositive()) {
      throw new IllegalArgumentException(name + " must be a positive duration, was " + value);
    }
  }
}
