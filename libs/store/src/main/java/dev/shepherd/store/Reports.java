package dev.shepherd.store;

import dev.shepherd.model.StatusEvent;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiConsumer;
import tools.jackson.databind.JsonNode;

/**
 * Applies the status events workers publish (phases, progress, heartbeats, outcomes) to their jobs,
 * fenced by the attempt's token and deduplicated by the event's sequence number.
 */
public final class Reports {

  /** Arguments of report.lua per event, after the two shared ones. */
  private static final int ARGS_PER_EVENT = 12;

  private final StoreContext store;

  Reports(StoreContext store) {
    this.store = store;
  }

  /**
   * An event to apply.
   *
   * @param retryBackoff how long a retryable failure waits before its next attempt is dispatched
   */
  public record Report(StatusEvent event, Duration retryBackoff) {}

  /**
   * Applies a worker's status event, fenced by its token and deduplicated by its sequence number.
   *
   * @param retryBackoff how long a retryable failure waits before its next attempt is dispatched
   */
  public ReportResult report(StatusEvent event, Duration retryBackoff) {
    ReportResult[] result = new ReportResult[1];
    reportAll(List.of(new Report(event, retryBackoff)), (r, applied) -> result[0] = applied);
    return result[0];
  }

  /**
   * Applies events in order with one call per partition (the events of one job share its partition,
   * so they keep their order), telling {@code applied} each event's result as soon as its
   * partition's call returns. When Redis fails, the exception comes after the results of the
   * partitions already applied were told: applying the rest again later is safe, as sequence
   * numbers make a repeated event a {@code DUPLICATE}.
   */
  public void reportAll(List<Report> reports, BiConsumer<Report, ReportResult> applied) {
    Map<Integer, List<Report>> byPartition = new LinkedHashMap<>();
    for (Report r : reports) {
      int partition = store.keys().partitionOf(r.event().jobId());
      if (partition < 0) {
        applied.accept(r, new ReportResult(ReportResult.Outcome.MISSING, null));
      } else {
        byPartition.computeIfAbsent(partition, p -> new ArrayList<>()).add(r);
      }
    }
    for (var e : byPartition.entrySet()) {
      List<Report> batch = e.getValue();
      JsonNode results = store.run(Script.REPORT, e.getKey(), arguments(batch)).get("results");
      for (int i = 0; i < batch.size(); i++) {
        JsonNode reply = results.get(i);
        applied.accept(
            batch.get(i),
            new ReportResult(
                ReportResult.Outcome.valueOf(reply.get("outcome").asString()),
                reply.path("state").asString(null)));
      }
    }
  }

  private List<String> arguments(List<Report> batch) {
    List<String> args = new ArrayList<>(2 + ARGS_PER_EVENT * batch.size());
    args.add(store.now());
    args.add(store.retention());
    for (Report r : batch) {
      addArguments(r.event(), r.retryBackoff(), args);
    }
    return args;
  }

  private static void addArguments(StatusEvent event, Duration retryBackoff, List<String> args) {
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
    args.add(event.jobId());
    args.add(Long.toString(event.fencingToken()));
    args.add(Long.toString(event.sequence()));
    args.add(event.eventName());
    args.add(Long.toString(event.at().toEpochMilli()));
    args.add(phase);
    args.add(percent);
    args.add(message);
    args.add(error);
    args.add(Boolean.toString(retryable));
    args.add(Long.toString(retryBackoff.toMillis()));
    args.add(event.workerId() == null ? "" : event.workerId());
  }
}
