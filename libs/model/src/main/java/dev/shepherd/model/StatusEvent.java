package dev.shepherd.model;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;
import java.time.Instant;
import tools.jackson.databind.JsonNode;

/**
 * What a worker reports about the attempt it holds. Every event carries the fencing token of the
 * worker's claim, so a report from an attempt that lost its lease is refused, and a per-attempt
 * sequence number, so duplicates and late arrivals change nothing.
 */
@JsonTypeInfo(use = JsonTypeInfo.Id.NAME, include = JsonTypeInfo.As.PROPERTY, property = "event")
@JsonSubTypes({
  @JsonSubTypes.Type(value = StatusEvent.PhaseStarted.class, name = "PHASE_STARTED"),
  @JsonSubTypes.Type(value = StatusEvent.PhaseEnded.class, name = "PHASE_ENDED"),
  @JsonSubTypes.Type(value = StatusEvent.Progress.class, name = "PROGRESS"),
  @JsonSubTypes.Type(value = StatusEvent.Heartbeat.class, name = "HEARTBEAT"),
  @JsonSubTypes.Type(value = StatusEvent.Succeeded.class, name = "SUCCEEDED"),
  @JsonSubTypes.Type(value = StatusEvent.Failed.class, name = "FAILED")
})
@JsonInclude(JsonInclude.Include.NON_NULL)
public sealed interface StatusEvent {

  String jobId();

  String type();

  int attempt();

  long fencingToken();

  long sequence();

  String workerId();

  Instant at();

  /** The event's name as it appears on the wire and in routing keys. */
  default String eventName() {
    return switch (this) {
      case PhaseStarted e -> "PHASE_STARTED";
      case PhaseEnded e -> "PHASE_ENDED";
      case Progress e -> "PROGRESS";
      case Heartbeat e -> "HEARTBEAT";
      case Succeeded e -> "SUCCEEDED";
      case Failed e -> "FAILED";
    };
  }

  record PhaseStarted(
      String jobId,
      String type,
      int attempt,
      long fencingToken,
      long sequence,
      String workerId,
      Instant at,
      String phase)
      implements StatusEvent {}

  record PhaseEnded(
      String jobId,
      String type,
      int attempt,
      long fencingToken,
      long sequence,
      String workerId,
      Instant at,
      String phase)
      implements StatusEvent {}

  record Progress(
      String jobId,
      String type,
      int attempt,
      long fencingToken,
      long sequence,
      String workerId,
      Instant at,
      int percent,
      String message)
      implements StatusEvent {}

  /**
   * The handler proves it moves without a phase or progress ({@code JobContext.heartbeat}): it
   * counts against the stall timeout like a phase or progress report, and its details (any JSON,
   * small) are kept on the job and handed to the next attempt, so a retry can resume.
   */
  record Heartbeat(
      String jobId,
      String type,
      int attempt,
      long fencingToken,
      long sequence,
      String workerId,
      Instant at,
      JsonNode details)
      implements StatusEvent {}

  record Succeeded(
      String jobId,
      String type,
      int attempt,
      long fencingToken,
      long sequence,
      String workerId,
      Instant at)
      implements StatusEvent {}

  /**
   * @param retryable true for a transient failure (the job runs again while attempts remain), false
   *     for a permanent one (the job is dead at once)
   */
  record Failed(
      String jobId,
      String type,
      int attempt,
      long fencingToken,
      long sequence,
      String workerId,
      Instant at,
      String error,
      boolean retryable)
      implements StatusEvent {}
}
