package dev.shepherd.model;

import java.util.Collections;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The one table of allowed state changes. The Redis store renders this same table into every Lua
 * script it loads, so Java and Redis cannot disagree about what is legal.
 */
public final class Transitions {

  private static final Map<JobState, Map<JobEvent, JobState>> TABLE = build();

  private Transitions() {}

  private static Map<JobState, Map<JobEvent, JobState>> build() {
    var table = new EnumMap<JobState, Map<JobEvent, JobState>>(JobState.class);
    for (JobState state : JobState.values()) {
      table.put(state, new EnumMap<>(JobEvent.class));
    }
    allow(table, JobState.SUBMITTED, JobEvent.SCHEDULE, JobState.SCHEDULED);
    allow(table, JobState.SUBMITTED, JobEvent.DISPATCH, JobState.QUEUED);
    allow(table, JobState.SCHEDULED, JobEvent.DISPATCH, JobState.QUEUED);
    allow(table, JobState.RETRY_WAIT, JobEvent.DISPATCH, JobState.QUEUED);
    allow(table, JobState.QUEUED, JobEvent.CLAIM, JobState.RUNNING);
    allow(table, JobState.RUNNING, JobEvent.SUCCEED, JobState.SUCCEEDED);
    allow(table, JobState.RUNNING, JobEvent.FAIL_RETRYABLE, JobState.RETRY_WAIT);
    allow(table, JobState.RUNNING, JobEvent.FAIL_PERMANENT, JobState.DEAD);
    allow(table, JobState.RUNNING, JobEvent.LEASE_EXPIRED, JobState.RETRY_WAIT);
    allow(table, JobState.RUNNING, JobEvent.ATTEMPTS_EXHAUSTED, JobState.DEAD);
    // The outcome of an attempt whose lease was released (worker drained, over capacity, lost)
    // arrives after the release, before any new claim: it is still that attempt's outcome (ADR 14).
    for (JobState released : new JobState[] {JobState.RETRY_WAIT, JobState.QUEUED}) {
      allow(table, released, JobEvent.SUCCEED, JobState.SUCCEEDED);
      allow(table, released, JobEvent.FAIL_RETRYABLE, JobState.RETRY_WAIT);
      allow(table, released, JobEvent.FAIL_PERMANENT, JobState.DEAD);
    }
    // A released last attempt waits for its outcome in RETRY_WAIT; none came within the grace.
    allow(table, JobState.RETRY_WAIT, JobEvent.ATTEMPTS_EXHAUSTED, JobState.DEAD);
    allow(table, JobState.DEAD, JobEvent.REDRIVE, JobState.QUEUED);
    // a job waiting in the outbox whose type no pool takes: DEAD, not published every second
    for (JobState waiting :
        List.of(JobState.SUBMITTED, JobState.SCHEDULED, JobState.RETRY_WAIT, JobState.QUEUED)) {
      allow(table, waiting, JobEvent.UNROUTABLE, JobState.DEAD);
    }
    for (JobState state : JobState.values()) {
      if (!state.isTerminal()) {
        allow(table, state, JobEvent.CANCEL, JobState.CANCELLED);
      }
    }
    table.replaceAll((state, row) -> Collections.unmodifiableMap(row));
    return Collections.unmodifiableMap(table);
  }

  private static void allow(
      Map<JobState, Map<JobEvent, JobState>> table, JobState from, JobEvent event, JobState to) {
    table.get(from).put(event, to);
  }

  /** The state {@code event} leads to from {@code from}, or empty when the change is illegal. */
  public static Optional<JobState> next(JobState from, JobEvent event) {
    return Optional.ofNullable(TABLE.get(from).get(event));
  }

  public static boolean allowed(JobState from, JobEvent event) {
    return TABLE.get(from).containsKey(event);
  }

  /** The whole table, read-only: state to (event to next state). */
  public static Map<JobState, Map<JobEvent, JobState>> table() {
    return TABLE;
  }
}
