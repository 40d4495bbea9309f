package dev.shepherd.e2e.bench;

import java.util.ArrayList;
import java.util.List;
import tools.jackson.databind.JsonNode;

/**
 * The tables of where a job's cost goes: the steady window's CPU per stage and per process, the
 * JIT, GC and start-up apart, allocations per stage, and Redis calls per script and commands per
 * name. Part of {@code table-*.md}.
 */
final class StageReport {

  private StageReport() {}

  static String tables(JsonNode r) {
    StringBuilder t = new StringBuilder();
    r.path("throughput")
        .properties()
        .forEach(
            e -> {
              JsonNode budget = e.getValue().path("stageBudget");
              if (budget.isMissingNode()) {
                return;
              }
              if (budget.has("skipped")) {
                t.append("\nProfile of ")
                    .append(e.getKey())
                    .append(": ")
                    .append(budget.path("skipped").asString())
                    .append('\n');
              } else if (budget.has("cpuMicrosPerJobByStage")) {
                stageTable(t, e.getKey(), budget, "cpuMicrosPerJobByStage", "CPU µs per job", 1);
                jitGcTable(t, e.getKey(), budget, e.getValue().path("steadyCpu"), r);
              } else if (budget.has("allocatedBytesPerJobByStage")) {
                stageTable(
                    t,
                    e.getKey(),
                    budget,
                    "allocatedBytesPerJobByStage",
                    "KiB allocated per job",
                    1024);
              }
            });
    if (r.has("profilerSkipped")) {
      t.append('\n').append(r.path("profilerSkipped").asString()).append('\n');
    }
    r.path("throughput")
        .properties()
        .forEach(e -> redisTable(t, e.getKey(), e.getValue().path("cost")));
    return t.toString();
  }

  private static void stageTable(
      StringBuilder t, String run, JsonNode budget, String field, String unit, double scale) {
    JsonNode byStage = budget.path(field);
    List<String> processes = new ArrayList<>();
    byStage.properties().forEach(e -> processes.add(e.getKey()));
    t.append(
        String.format(
            "%nWhere the steady window goes, %s: %s by stage (async-profiler, event %s, every %s;"
                + " a stage's share of a process's samples%s):%n%n",
            run,
            unit,
            events(budget),
            budget.path("interval").asString(),
            scale == 1 ? " times the process's steady CPU per job" : ""));
    t.append("| stage |");
    processes.forEach(p -> t.append(' ').append(p).append(" |"));
    t.append("\n| --- |");
    processes.forEach(p -> t.append(" ---: |"));
    t.append('\n');
    for (String stage : Stages.ALL) {
      t.append("| ").append(stage).append(" |");
      for (String p : processes) {
        t.append(' ').append(fmt(byStage.path(p).path(stage).asDouble() / scale)).append(" |");
      }
      t.append('\n');
    }
    t.append("| **total** |");
    for (String p : processes) {
      double sum = 0;
      for (String stage : Stages.ALL) {
        sum += byStage.path(p).path(stage).asDouble();
      }
      t.append(" **").append(fmt(sum / scale)).append("** |");
    }
    t.append('\n');
    if (budget.has("failures")) {
      t.append("\nNot profiled: ").append(budget.path("failures").toString()).append('\n');
    }
  }

  /** The CPU engine(s) the profiles ran with: one name, or each process's where they differ. */
  private static String events(JsonNode budget) {
    List<String> distinct = new ArrayList<>();
    budget
        .path("events")
        .properties()
        .forEach(
            e -> {
              if (!distinct.contains(e.getValue().asString())) {
                distinct.add(e.getValue().asString());
              }
            });
    return distinct.size() == 1 ? distinct.get(0) : budget.path("events").toString();
  }

  private static void jitGcTable(
      StringBuilder t, String run, JsonNode budget, JsonNode steady, JsonNode r) {
    t.append(
        String.format(
            "%nJIT, GC and start-up, %s (threads' CPU from /proc: C1/C2 compiler threads; GC"
                + " threads and the VM thread, which runs the serial collector):%n%n",
            run));
    t.append(
        "| process | steady CPU µs per job | of which JIT | of which GC | without JIT |"
            + " start-up CPU s | of which JIT | of which GC |\n");
    t.append("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n");
    JsonNode threads = budget.path("threadCpuMicrosPerJob");
    JsonNode without = budget.path("cpuMicrosPerJobWithoutJit");
    JsonNode startup = r.path("startupCpu");
    threads
        .properties()
        .forEach(
            e -> {
              String p = e.getKey();
              boolean all = p.equals("all processes");
              double cpu =
                  all
                      ? steady.path("cpuMicrosPerJobAllProcesses").asDouble()
                      : steady.path("cpuMicrosPerJob").path(p).asDouble();
              JsonNode s = startup.path(p);
              t.append("| ")
                  .append(all ? "**all processes**" : p)
                  .append(" | ")
                  .append(fmt(cpu))
                  .append(" | ")
                  .append(fmt(e.getValue().path(ThreadCpu.JIT).asDouble()))
                  .append(" | ")
                  .append(fmt(e.getValue().path(ThreadCpu.GC).asDouble()))
                  .append(" | ")
                  .append(fmt(without.path(p).asDouble()))
                  .append(" | ")
                  .append(s.isMissingNode() ? "" : fmt2(s.path("cpuSeconds").asDouble()))
                  .append(" | ")
                  .append(s.isMissingNode() ? "" : fmt2(s.path("jitCpuSeconds").asDouble()))
                  .append(" | ")
                  .append(s.isMissingNode() ? "" : fmt2(s.path("gcCpuSeconds").asDouble()))
                  .append(" |\n");
            });
  }

  private static void redisTable(StringBuilder t, String run, JsonNode cost) {
    JsonNode ops = cost.path("redisCallsPerJobByOp");
    JsonNode commands = cost.path("redisCommandsPerJobByCommand");
    if (ops.isMissingNode() && commands.isMissingNode()) {
      return;
    }
    t.append(
        String.format(
            "%nRedis per job, %s: Shepherd's calls by script (shepherd_redis_calls_total, op) and"
                + " Redis's commands by name (INFO commandstats, inside scripts too; the whole"
                + " server, so other clients' commands count):%n%n",
            run));
    t.append("| script (op) | calls per job | | command | commands per job |\n");
    t.append("| --- | ---: | --- | --- | ---: |\n");
    List<String[]> left = new ArrayList<>();
    ops.properties()
        .forEach(e -> left.add(new String[] {e.getKey(), fmt2(e.getValue().asDouble())}));
    List<String[]> right = new ArrayList<>();
    commands
        .properties()
        .forEach(e -> right.add(new String[] {e.getKey(), fmt2(e.getValue().asDouble())}));
    left.add(new String[] {"**all**", fmt2(cost.path("redisRoundTripsPerJob").asDouble())});
    right.add(new String[] {"**all**", fmt2(cost.path("redisCommandsPerJob").asDouble())});
    for (int i = 0; i < Math.max(left.size(), right.size()); i++) {
      String[] l = i < left.size() ? left.get(i) : new String[] {"", ""};
      String[] c = i < right.size() ? right.get(i) : new String[] {"", ""};
      t.append("| ")
          .append(l[0])
          .append(" | ")
          .append(l[1])
          .append(" | | ")
          .append(c[0])
          .append(" | ")
          .append(c[1])
          .append(" |\n");
    }
  }

  private static String fmt(double v) {
    return String.format("%,.0f", v);
  }

  private static String fmt2(double v) {
    return String.format("%.2f", v);
  }
}
