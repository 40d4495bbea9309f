package dev.shepherd.store;

import dev.shepherd.model.StatusEvent;
import java.time.Duration;
import tools.jackson.databind.JsonNode;

/**
 * Applies the status events workers publish (phases, progress, heartbeats, outcomes) to their jobs,
 * fenced by the attempt's token and deduplicated by the event's sequence number.
 */
public final class Reports {

  private final StoreContext store;

  Reports(StoreContext store) {
    this.store = store;
  }

  /**
   * Applies a worker's status event, fenced by its token and deduplicated by its sequence number.
   *
   * @param retryBackoff how long a retryable failure waits before its next attempt is dispatched
   */
  public ReportResult report(StatusEvent event, Duration retryBackoff) {
    String phase = "";
    String percent = "";
    String message = "";
    String error = "";
    boolean retryable = false;
    switch (event) {
      case StatusEvent.PhaseStarted e -> phase = e.phase();
      case StatusEvent.PhaseEnded e -> phase = e.phase();
      case StatusEvent.Progress e -> {
        percent = Integer.toString(e.percent());
        message = e.message() == null ? "" : e.message();
      }
      case StatusEvent.Heartbeat e ->
          message = e.details() == null || e.details().isNull() ? "" : e.details().toString();
      case StatusEvent.Succeeded e -> {}
      case StatusEvent.Failed e -> {
        error = e.error() == null ? "" : e.error();
        retryable = e.retryable();
      }
    }
    int partition = store.keys().partitionOf(event.jobId());
    if (partition < 0) {
      return new ReportResult(ReportResult.Outcome.MISSING, null);
    }
    JsonNode reply =
        store.run(
            Script.REPORT,
            partition,
            event.jobId(),
            Long.toString(event.fencingToken()),
            Long.toString(event.sequence()),
            event.eventName(),
            Long.toString(event.at().toEpochMilli()),
            phase,
            percent,
            message,
            error,
            Boolean.toString(retryable),
            store.now(),
            Long.toString(retryBackoff.toMillis()),
            store.retention(),
            event.workerId() == null ? "" : event.workerId());
    return new ReportResult(
        ReportResult.Outcome.valueOf(reply.get("outcome").asString()),
        reply.path("state").asString(null));
  }
}
