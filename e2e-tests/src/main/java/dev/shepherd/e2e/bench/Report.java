package dev.shepherd.e2e.bench;

import dev.shepherd.model.Json;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.style.Styler;
import tools.jackson.databind.JsonNode;

/** Writes a run's JSON, its table (with the targets) and its plots. */
final class Report {

  // issue 14's targets, each checked in the table a run writes (never asserted in a test)
  static final double MAX_ROUND_TRIPS_PER_JOB = 3;
  static final double MAX_REDIS_COMMANDS_PER_JOB = 24;
  static final double HALF_LOAD_P50_MILLIS = 10;
  static final double HALF_LOAD_P99_MILLIS = 50;
  static final double MIN_RATIO_TO_CELERY = 1.0;

  private Report() {}

  static void write(
      Map<String, Object> results,
      Map<String, List<double[]>> throughput,
      List<double[]> latencyByLoad,
      Path out)
      throws IOException {
    String mode = (String) results.get("mode");
    String stamp = ((String) results.get("date")).replaceAll("[:.]", "").substring(0, 15);
    Path json = out.resolve(stamp + "-" + results.get("commit") + "-" + mode + ".json");
    results.put("resultsFile", json.toString());
    JsonNode tree = Json.mapper().valueToTree(results);
    String table = table(tree);
    results.put("table", table);
    String text = Json.mapper().writerWithDefaultPrettyPrinter().writeValueAsString(results);
    Files.writeString(json, text);
    Files.writeString(out.resolve("latest-" + mode + ".json"), text);
    Files.writeString(out.resolve("table-" + mode + ".md"), table);
    plotThroughput(throughput, out.resolve("throughput-" + mode + ".png"));
    if (!latencyByLoad.isEmpty()) {
      plotLatency(latencyByLoad, out.resolve("latency-" + mode + ".png"));
    }
    plotCurves(tree, mode, out);
    System.out.println(table);
  }

  /**
   * Shepherd's figures against their targets (not in a run against Celery alone), then the
   * comparison with Celery and the CPU per job in the steady window.
   */
  static String table(JsonNode r) {
    String shepherd = r.has("rawBrokerMessagesPerSecond") ? shepherdTable(r) + "\n" : "";
    return shepherd
        + againstCeleryTable(r)
        + "\n"
        + steadyCpuTable(r)
        + StageReport.tables(r)
        + curvesTable(r);
  }

  private static String shepherdTable(JsonNode r) {
    double raw = r.path("rawBrokerMessagesPerSecond").asDouble();
    JsonNode two = r.at("/throughput/2 workers");
    JsonNode four = r.at("/throughput/4 workers");
    JsonNode best =
        two.path("jobsPerSecond").asDouble() >= four.path("jobsPerSecond").asDouble() ? two : four;
    double jobs = best.path("jobsPerSecond").asDouble();
    JsonNode cost = best.path("cost");
    double durable = cost.path("durableMessagesPerJob").asDouble();
    double ratio = jobs * durable / raw;
    JsonNode half = r.at("/latency/50%");
    double p50 = half.at("/submitToFinishMillis/p50").asDouble();
    double p99 = half.at("/submitToFinishMillis/p99").asDouble();
    double perFinished = r.at("/backlog/redisBytesPerFinishedJob").asDouble();
    JsonNode rogue = r.path("rogueRecovery");
    StringBuilder t = new StringBuilder();
    t.append("| figure | value | target | met |\n| --- | --- | --- | --- |\n");
    row(t, "raw broker (confirmed persistent, quorum, manual ack)", fmt(raw) + " msg/s", "", "");
    row(t, "throughput, 2 workers", fmt(two.path("jobsPerSecond").asDouble()) + " jobs/s", "", "");
    row(t, "throughput, 4 workers", fmt(four.path("jobsPerSecond").asDouble()) + " jobs/s", "", "");
    JsonNode http = r.path("throughput").path(Bench.HTTP);
    if (!http.isMissingNode()) {
      row(
          t,
          "throughput, 2 workers, each job a REST request ("
              + Bench.HTTP_PRODUCERS
              + " producers at once)",
          fmt(http.path("jobsPerSecond").asDouble()) + " jobs/s",
          "",
          "");
    }
    JsonNode keyed = r.path("throughput").path(Bench.KEYED);
    if (!keyed.isMissingNode()) {
      double keyedRate = keyed.path("jobsPerSecond").asDouble();
      row(
          t,
          "throughput, 4 workers, every job with an ordering key ("
              + Bench.JOBS_PER_KEY
              + " jobs per key, run in order)",
          fmt(keyedRate)
              + " jobs/s ("
              + String.format("%.2f", keyedRate / four.path("jobsPerSecond").asDouble())
              + " x unkeyed)",
          "",
          "");
    }
    row(
        t,
        "ratio jobs/s x durable msgs/job / raw msg/s",
        String.format("%.2f", ratio),
        ">= 0.8 (issue 6)",
        ok(ratio >= 0.8));
    row(t, "durable broker messages per job", fmt2(durable), "<= 3", ok(durable <= 3));
    double trips = cost.path("redisRoundTripsPerJob").asDouble();
    row(
        t,
        "Redis round trips per job (Shepherd's own calls)",
        fmt2(trips),
        "<= " + fmt(MAX_ROUND_TRIPS_PER_JOB),
        ok(trips <= MAX_ROUND_TRIPS_PER_JOB));
    double commands = cost.path("redisCommandsPerJob").asDouble();
    row(
        t,
        "Redis commands per job (INFO commandstats, incl. inside scripts)",
        fmt2(commands),
        "<= " + fmt(MAX_REDIS_COMMANDS_PER_JOB),
        ok(commands <= MAX_REDIS_COMMANDS_PER_JOB));
    row(
        t,
        "AMQP messages delivered per job",
        fmt2(cost.path("amqpDeliveredPerJob").asDouble()),
        "",
        "");
    row(
        t,
        "latency at 50% load: submit-to-start p50 / p95 / p99 / max",
        ms(half.path("submitToStartMillis")),
        "",
        "");
    row(
        t,
        "latency at 50% load ("
            + fmt(half.path("offeredJobsPerSecond").asDouble())
            + " jobs/s): submit-to-finish p50 / p95 / p99 / max",
        ms(half.path("submitToFinishMillis")),
        "p50 < " + fmt(HALF_LOAD_P50_MILLIS) + " ms, p99 < " + fmt(HALF_LOAD_P99_MILLIS) + " ms",
        ok(p50 < HALF_LOAD_P50_MILLIS && p99 < HALF_LOAD_P99_MILLIS));
    row(
        t,
        "backlog drain",
        fmt(r.at("/backlog/drainJobsPerSecond").asDouble()) + " jobs/s",
        "",
        "");
    row(
        t,
        "Redis memory per queued job",
        fmt(r.at("/backlog/redisBytesPerQueuedJob").asDouble()) + " B",
        "",
        "");
    row(
        t,
        "Redis memory per finished job",
        fmt(perFinished) + " B",
        "< 2048 B",
        ok(perFinished < 2048));
    row(
        t,
        "RabbitMQ memory with the backlog queued",
        fmt(r.at("/backlog/rabbitMemoryBytesWithBacklog").asDouble() / 1048576) + " MiB",
        "",
        "");
    for (String kind : new String[] {"sigkillDefaultTtl", "sigkillShortTtl"}) {
      JsonNode k = rogue.path(kind);
      double ttl = k.path("leaseTtlSeconds").asDouble();
      double max = k.path("maxSeconds").asDouble();
      row(
          t,
          "SIGKILL to re-dispatch, lease TTL "
              + fmt2(ttl)
              + " s (max of "
              + k.path("jobs").asInt()
              + ")",
          fmt2(max) + " s",
          "<= TTL + 2 s",
          ok(max <= ttl + 2 && k.path("redispatched").asInt() == k.path("jobs").asInt()));
    }
    JsonNode pod = rogue.path("podDeleted");
    row(
        t,
        "pod deleted to re-dispatch, lease TTL "
            + fmt2(pod.path("leaseTtlSeconds").asDouble())
            + " s (max of "
            + pod.path("jobs").asInt()
            + ")",
        fmt2(pod.path("maxSeconds").asDouble()) + " s",
        "<= 2 s, released by the pod watch",
        ok(
            pod.path("maxSeconds").asDouble() <= 2
                && pod.path("redispatched").asInt() == pod.path("jobs").asInt()
                && pod.path("releasedByPodWatch").asInt() == pod.path("jobs").asInt()));
    cost.path("cpuSecondsPer1000Jobs")
        .properties()
        .forEach(
            e ->
                row(
                    t,
                    "CPU seconds per 1,000 jobs: " + e.getKey(),
                    fmt2(e.getValue().asDouble()),
                    "",
                    ""));
    cost.path("heapUsedMiBAtEnd")
        .properties()
        .forEach(
            e ->
                row(
                    t,
                    "heap used at end: " + e.getKey(),
                    fmt(e.getValue().asDouble()) + " MiB",
                    "",
                    ""));
    cost.path("rssMiBAtEnd")
        .properties()
        .forEach(
            e ->
                row(t, "RSS at end: " + e.getKey(), fmt(e.getValue().asDouble()) + " MiB", "", ""));
    r.at("/idle/cpuMillisPerSecond")
        .properties()
        .forEach(
            e ->
                row(
                    t,
                    "idle CPU, no job to run (after the warm-up): " + e.getKey(),
                    e.getValue().asDouble() + " ms per second",
                    "",
                    ""));
    return t.toString();
  }

  /** Both systems' jobs/s and the ratio, both ways; Celery's reason where it was skipped. */
  static String againstCeleryTable(JsonNode r) {
    JsonNode against = r.path("againstCelery");
    JsonNode shepherd = against.path("shepherd");
    JsonNode celery = against.path("celery");
    String skipped = celery.path("skipped").asString("");
    StringBuilder t = new StringBuilder();
    t.append(
        String.format(
            "Against Celery, as many slots (%d workers x %d), the same RabbitMQ and Redis:%n%n",
            against.path("workers").asInt(), against.path("slotsPerWorker").asInt()));
    t.append(
        "| way | jobs | Shepherd jobs/s | Celery jobs/s | Shepherd / Celery | target | met |\n");
    t.append("| --- | --- | --- | --- | --- | --- | --- |\n");
    String[][] ways = {
      {"backlog", "drainJobsPerSecond", "backlog: queued first, drained from first to last finish"},
      {"live", "jobsPerSecond", "live: submitted as fast as the producer can while workers run"}
    };
    for (String[] way : ways) {
      JsonNode s = shepherd.path(way[0]);
      JsonNode c = celery.path(way[0]);
      double ratio = against.at("/shepherdOverCelery/" + way[0]).asDouble();
      t.append("| ")
          .append(way[2])
          .append(" | ")
          .append(fmt(s.path("jobs").asDouble()))
          .append(" | ")
          .append(fmt(s.path(way[1]).asDouble()))
          .append(" | ")
          .append(skipped.isEmpty() ? fmt(c.path(way[1]).asDouble()) : "skipped")
          .append(" | ")
          .append(skipped.isEmpty() ? fmt2(ratio) : "")
          .append(" | >= ")
          .append(fmt2(MIN_RATIO_TO_CELERY))
          .append(" | ")
          .append(skipped.isEmpty() ? ok(ratio >= MIN_RATIO_TO_CELERY) : "not measured")
          .append(" |\n");
    }
    if (!skipped.isEmpty()) {
      t.append("\nCelery ").append(skipped).append('\n');
    }
    return t.toString();
  }

  /**
   * CPU microseconds per job of each process between 20 % and 90 % of a run's jobs finished:
   * Shepherd's throughput runs against the target, Celery's live run, and both backlog drains.
   */
  static String steadyCpuTable(JsonNode r) {
    StringBuilder t = new StringBuilder();
    t.append("CPU per job in the steady window (from 20 % to 90 % of the jobs finished):\n\n");
    t.append(
        "| run | process | CPU µs per job | target | met |\n| --- | --- | --- | --- | --- |\n");
    r.path("throughput")
        .properties()
        .forEach(
            e -> steadyRows(t, "Shepherd, " + e.getKey(), e.getValue().path("steadyCpu"), true));
    JsonNode celery = r.at("/againstCelery/celery/live/steadyCpu");
    if (!celery.isMissingNode()) {
      steadyRows(t, "Celery, live (main process and prefork children)", celery, false);
    }
    JsonNode shepherdDrain = r.at("/againstCelery/shepherd/backlog/steadyCpu");
    if (!shepherdDrain.isMissingNode()) {
      steadyRows(t, "Shepherd, backlog drain", shepherdDrain, false);
    }
    JsonNode celeryDrain = r.at("/againstCelery/celery/backlog/steadyCpu");
    if (!celeryDrain.isMissingNode()) {
      steadyRows(t, "Celery, backlog drain", celeryDrain, false);
    }
    t.append(drainTable(r));
    return t.toString();
  }

  /**
   * Both backlog drains second by second (jobs finished in each whole second from the first
   * finish), with how long Shepherd's new workers took from their start to the first job finished;
   * empty when neither has them.
   */
  static String drainTable(JsonNode r) {
    JsonNode shepherd = r.at("/againstCelery/shepherd/backlog");
    JsonNode celery = r.at("/againstCelery/celery/backlog");
    JsonNode s = shepherd.path("drainPerSecond");
    JsonNode c = celery.path("drainPerSecond");
    if (!s.isArray() && !c.isArray()) {
      return "";
    }
    StringBuilder t = new StringBuilder();
    t.append("\nThe backlog drains second by second (jobs finished in each second from the first")
        .append(" finish; Shepherd's new workers took ")
        .append(fmt2(shepherd.path("workersStartToFirstFinishSeconds").asDouble(Double.NaN)))
        .append(" s from their start to the first):\n\n| second | Shepherd | Celery |\n")
        .append("| ---: | ---: | ---: |\n");
    for (int i = 0; i < Math.max(s.size(), c.size()); i++) {
      t.append("| ")
          .append(i + 1)
          .append(" | ")
          .append(i < s.size() ? fmt(s.get(i).asDouble()) : "")
          .append(" | ")
          .append(i < c.size() ? fmt(c.get(i).asDouble()) : "")
          .append(" |\n");
    }
    return t.toString();
  }

  private static void steadyRows(StringBuilder t, String run, JsonNode steady, boolean target) {
    if (steady.has("skipped")) {
      t.append("| ").append(run).append(" | ").append(steady.path("skipped").asString());
      t.append(" | | | |\n");
      return;
    }
    processRows(t, run, steady.path("cpuMicrosPerJob"), "");
    double all = steady.path("cpuMicrosPerJobAllProcesses").asDouble();
    t.append("| ")
        .append(run)
        .append(" | **all processes** | ")
        .append(fmt(all))
        .append(" | ")
        .append(target ? "<= " + fmt(SteadyCpu.TARGET_MICROS_PER_JOB) : "")
        .append(" | ")
        .append(target ? ok(all <= SteadyCpu.TARGET_MICROS_PER_JOB) : "")
        .append(" |\n");
    processRows(t, run, steady.path("infrastructureCpuMicrosPerJob"), " (shared)");
    if (steady.has("cpuMicrosPerJobWithInfrastructure")) {
      t.append("| ")
          .append(run)
          .append(" | these and the broker and Redis | ")
          .append(fmt(steady.path("cpuMicrosPerJobWithInfrastructure").asDouble()))
          .append(" | | |\n");
    }
  }

  /** One row per process of {@code perProcess} (CPU µs per job by name), its name + suffix. */
  private static void processRows(StringBuilder t, String run, JsonNode perProcess, String suffix) {
    perProcess
        .properties()
        .forEach(
            e ->
                t.append("| ")
                    .append(run)
                    .append(" | ")
                    .append(e.getKey())
                    .append(suffix)
                    .append(" | ")
                    .append(fmt(e.getValue().asDouble()))
                    .append(" | | |\n"));
  }

  private static String ms(JsonNode p) {
    return String.format(
        "%s / %s / %s / %s ms",
        fmt(p.path("p50").asDouble()),
        fmt(p.path("p95").asDouble()),
        fmt(p.path("p99").asDouble()),
        fmt(p.path("max").asDouble()));
  }

  private static void row(StringBuilder t, String figure, String value, String target, String met) {
    t.append("| ")
        .append(figure)
        .append(" | ")
        .append(value)
        .append(" | ")
        .append(target)
        .append(" | ")
        .append(met)
        .append(" |\n");
  }

  private static String ok(boolean met) {
    return met ? "yes" : "**no**";
  }

  private static String fmt(double v) {
    return String.format("%,.0f", v);
  }

  private static String fmt2(double v) {
    return String.format("%.2f", v);
  }

  private static void plotThroughput(Map<String, List<double[]>> series, Path file)
      throws IOException {
    XYChart chart =
        new XYChartBuilder()
            .width(900)
            .height(450)
            .title("Throughput over time: no-op jobs succeeded per second (sampled every 0.5 s)")
            .xAxisTitle("seconds since first submit")
            .yAxisTitle("jobs/s")
            .build();
    chart.getStyler().setLegendPosition(Styler.LegendPosition.InsideNE);
    chart.getStyler().setMarkerSize(2);
    series.forEach(
        (name, points) -> {
          List<Double> xs = new ArrayList<>();
          List<Double> ys = new ArrayList<>();
          points.forEach(
              p -> {
                xs.add(p[0]);
                ys.add(p[1]);
              });
          if (!xs.isEmpty()) {
            chart.addSeries(name, xs, ys);
          }
        });
    BitmapEncoder.saveBitmap(chart, file.toString(), BitmapEncoder.BitmapFormat.PNG);
  }

  private static void plotLatency(List<double[]> byLoad, Path file) throws IOException {
    XYChart chart =
        new XYChartBuilder()
            .width(900)
            .height(450)
            .title("Submit-to-finish latency against offered load")
            .xAxisTitle("offered load (jobs/s)")
            .yAxisTitle("ms")
            .build();
    chart.getStyler().setLegendPosition(Styler.LegendPosition.InsideNW);
    String[] names = {"p50", "p95", "p99"};
    for (int i = 0; i < names.length; i++) {
      List<Double> xs = new ArrayList<>();
      List<Double> ys = new ArrayList<>();
      for (double[] p : byLoad) {
        xs.add(p[0]);
        ys.add(p[i + 1]);
      }
      if (!xs.isEmpty()) {
        chart.addSeries(names[i], xs, ys);
      }
    }
    BitmapEncoder.saveBitmap(chart, file.toString(), BitmapEncoder.BitmapFormat.PNG);
  }

  /**
   * The scaling curve ({@code scaling-<mode>.png}: jobs/s against workers) and the load curve
   * ({@code latency-curve-<mode>.png}: submit-to-finish p50 and p99 against offered load), where
   * the run measured them.
   */
  static void plotCurves(JsonNode r, String mode, Path out) throws IOException {
    JsonNode scaling = r.at("/scaling/jobsPerSecondByWorkers");
    if (scaling.size() > 0) {
      XYChart chart =
          new XYChartBuilder()
              .width(900)
              .height(450)
              .title("Throughput against workers (each its own process, 8 slots each)")
              .xAxisTitle("workers")
              .yAxisTitle("jobs/s")
              .build();
      chart.getStyler().setLegendVisible(false);
      // from zero: a flat curve must look flat, not like a cliff between 3,100 and 3,500
      chart.getStyler().setYAxisMin(0.0);
      List<Double> xs = new ArrayList<>();
      List<Double> ys = new ArrayList<>();
      scaling
          .properties()
          .forEach(
              e -> {
                xs.add(Double.parseDouble(e.getKey()));
                ys.add(e.getValue().asDouble());
              });
      chart.addSeries("jobs/s", xs, ys);
      BitmapEncoder.saveBitmap(
          chart,
          out.resolve("scaling-" + mode + ".png").toString(),
          BitmapEncoder.BitmapFormat.PNG);
    }
    JsonNode steps = r.at("/loadCurve/steps");
    if (steps.size() > 0) {
      XYChart chart =
          new XYChartBuilder()
              .width(900)
              .height(450)
              .title(
                  "Submit-to-finish latency against offered load ("
                      + r.at("/loadCurve/workers").asInt()
                      + " workers; throughput "
                      + fmt(r.at("/loadCurve/throughputJobsPerSecond").asDouble())
                      + " jobs/s)")
              .xAxisTitle("offered load (jobs/s)")
              .yAxisTitle("ms (log scale)")
              .build();
      chart.getStyler().setLegendPosition(Styler.LegendPosition.InsideNW);
      chart.getStyler().setYAxisLogarithmic(true);
      for (String p : new String[] {"p50", "p99"}) {
        List<Double> xs = new ArrayList<>();
        List<Double> ys = new ArrayList<>();
        for (JsonNode step : steps) {
          xs.add(step.path("offeredJobsPerSecond").asDouble());
          // a log axis cannot show 0 ms
          ys.add(Math.max(1, step.at("/submitToFinishMillis/" + p).asDouble()));
        }
        chart.addSeries(p, xs, ys);
      }
      BitmapEncoder.saveBitmap(
          chart,
          out.resolve("latency-curve-" + mode + ".png").toString(),
          BitmapEncoder.BitmapFormat.PNG);
    }
  }

  /** The scaling and load curves as tables, where the run measured them. */
  static String curvesTable(JsonNode r) {
    StringBuilder t = new StringBuilder();
    JsonNode scaling = r.at("/scaling/jobsPerSecondByWorkers");
    if (scaling.size() > 0) {
      t.append("\nScaling: no-op jobs/s against workers (each its own process, ")
          .append(r.at("/scaling/slotsPerWorker").asInt())
          .append(" slots each):\n\n| workers | jobs/s |\n| --- | --- |\n");
      scaling
          .properties()
          .forEach(
              e ->
                  t.append("| ")
                      .append(e.getKey())
                      .append(" | ")
                      .append(fmt(e.getValue().asDouble()))
                      .append(" |\n"));
    }
    JsonNode steps = r.at("/loadCurve/steps");
    if (steps.size() > 0) {
      t.append("\nLoad curve: submit-to-finish latency against offered load (")
          .append(r.at("/loadCurve/workers").asInt())
          .append(" workers, ")
          .append(r.at("/loadCurve/stepSeconds").asInt())
          .append(" s a step):\n\n")
          .append("| offered | jobs/s offered | jobs/s completed | p50 / p95 / p99 / max |")
          .append(" saturated |\n| --- | --- | --- | --- | --- |\n");
      for (JsonNode step : steps) {
        t.append("| ")
            .append(fmt(step.path("fractionOfThroughput").asDouble() * 100))
            .append(" % | ")
            .append(fmt(step.path("offeredJobsPerSecond").asDouble()))
            .append(" | ")
            .append(fmt(step.path("completedJobsPerSecond").asDouble()))
            .append(" | ")
            .append(ms(step.path("submitToFinishMillis")))
            .append(" | ")
            .append(step.path("saturated").asBoolean() ? "yes" : "no")
            .append(" |\n");
      }
    }
    return t.toString();
  }
}
