package dev.shepherd.e2e.bench;

import dev.shepherd.model.Json;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import tools.jackson.databind.JsonNode;

/**
 * {@code Bench --against-celery n --repeat k}: the comparison run k times in a row, each run
 * Shepherd then Celery, and the median of each way's ratio. On a machine whose speed moves by half
 * from one run to the next (docs/BENCHMARKS.md, 2026-12-04), one run decides nothing; the runs
 * alternate the two systems, so a slow spell costs both.
 */
final class CeleryRepeats {

  private CeleryRepeats() {}

  /** The table of every run and the medians; also written next to the runs' own results. */
  static String summarize(List<Map<String, Object>> runs, Path out) throws IOException {
    List<JsonNode> trees = runs.stream().map(r -> (JsonNode) Json.mapper().valueToTree(r)).toList();
    StringBuilder t = new StringBuilder();
    t.append("Shepherd against Celery, ")
        .append(runs.size())
        .append(" runs in a row (each: Shepherd, then Celery):\n\n")
        .append("| run | live: Shepherd / Celery jobs/s | ratio | backlog: Shepherd / Celery")
        .append(" jobs/s | ratio | CPU µs per job, live: Shepherd / Celery |\n")
        .append("| --- | --- | ---: | --- | ---: | --- |\n");
    List<Double> live = new ArrayList<>();
    List<Double> backlog = new ArrayList<>();
    for (JsonNode r : trees) {
      JsonNode a = r.path("againstCelery");
      double liveRatio = a.at("/shepherdOverCelery/live").asDouble(Double.NaN);
      double backlogRatio = a.at("/shepherdOverCelery/backlog").asDouble(Double.NaN);
      if (!Double.isNaN(liveRatio)) {
        live.add(liveRatio);
      }
      if (!Double.isNaN(backlogRatio)) {
        backlog.add(backlogRatio);
      }
      t.append("| ")
          .append(minute(r.path("date").asString()))
          .append(" | ")
          .append(Math.round(a.at("/shepherd/live/jobsPerSecond").asDouble()))
          .append(" / ")
          .append(Math.round(a.at("/celery/live/jobsPerSecond").asDouble()))
          .append(" | ")
          .append(fmt(liveRatio))
          .append(" | ")
          .append(Math.round(a.at("/shepherd/backlog/drainJobsPerSecond").asDouble()))
          .append(" / ")
          .append(Math.round(a.at("/celery/backlog/drainJobsPerSecond").asDouble()))
          .append(" | ")
          .append(fmt(backlogRatio))
          .append(" | ")
          .append(
              Math.round(a.at("/shepherd/live/steadyCpu/cpuMicrosPerJobAllProcesses").asDouble()))
          .append(" / ")
          .append(Math.round(a.at("/celery/live/steadyCpu/cpuMicrosPerJobAllProcesses").asDouble()))
          .append(" |\n");
    }
    t.append("| **median** | | **")
        .append(fmt(median(live)))
        .append("** | | **")
        .append(fmt(median(backlog)))
        .append("** | |\n");
    Map<String, Object> summary = new LinkedHashMap<>();
    summary.put("runs", runs.stream().map(r -> r.get("resultsFile")).toList());
    summary.put("medianRatioLive", median(live));
    summary.put("medianRatioBacklog", median(backlog));
    summary.put("table", t.toString());
    String first = (String) runs.getFirst().get("resultsFile");
    Path json = Path.of(first.replace("-celery.json", "-celery-x" + runs.size() + ".json"));
    Files.writeString(
        out.resolve(json.getFileName()),
        Json.mapper().writerWithDefaultPrettyPrinter().writeValueAsString(summary));
    return t.toString();
  }

  /** The median, NaN for none. */
  static double median(List<Double> values) {
    if (values.isEmpty()) {
      return Double.NaN;
    }
    List<Double> sorted = values.stream().sorted().toList();
    int n = sorted.size();
    return n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
  }

  /** {@code 2026-12-04T03:33:46.89Z} as {@code 2026-12-04 03:33}. */
  private static String minute(String instant) {
    return instant.length() >= 16 ? instant.substring(0, 16).replace('T', ' ') : instant;
  }

  private static String fmt(double v) {
    return Double.isNaN(v) ? "skipped" : String.format("%.2f", v);
  }
}
