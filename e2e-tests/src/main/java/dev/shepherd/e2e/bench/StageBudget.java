package dev.shepherd.e2e.bench;

import dev.shepherd.e2e.Cluster;
import dev.shepherd.testsupport.ManagedProcess;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * Where a throughput run's steady CPU goes, per process and per stage (issue 14): at the steady
 * window's opening (20 % of the jobs finished) every Shepherd process's threads are read and then
 * async-profiler is started in it (the window, counted from the opening's sample, holds the starts:
 * a start that takes seconds on a busy machine shortens the profile, never the window; see {@link
 * SteadyCpu.Edges}); at its closing (90 %) the threads are read again and the profile is written as
 * collapsed stacks and a flame graph. {@link Stages} sorts the stacks into stages; a stage's share
 * of a process's samples times the process's steady CPU per job (from {@link SteadyCpu}, measured
 * by the OS) is its CPU µs per job. The thread reading gives the JIT's and the GC's CPU without the
 * profiler. An allocation profile ({@code alloc}) gives bytes allocated per job per stage instead.
 */
final class StageBudget implements SteadyCpu.Edges {

  private final String run;
  private final String kind;
  private final Cluster cluster;
  private final Profiler profiler;
  private final Path flameDir;
  private final Path collapsedDir;
  private final Map<String, Map<Long, ThreadCpu.ThreadTime>> threadsAtOpen =
      new ConcurrentHashMap<>();
  private final Map<String, Map<String, Double>> threadCpu = new ConcurrentHashMap<>();
  private final Map<String, String> events = new ConcurrentHashMap<>();
  private final Map<String, Path> collapsed = new ConcurrentHashMap<>();
  private final Map<String, Path> flameGraphs = new ConcurrentHashMap<>();
  private final Map<String, String> failures = new ConcurrentHashMap<>();
  private final List<ManagedProcess> profiled = new ArrayList<>();
  private double closedAt = Double.NaN;
  private double startSeconds = Double.NaN;

  /**
   * @param run the throughput run's label ("2 workers"), in file names and titles
   * @param kind {@code cpu} or {@code alloc}
   * @param flameDir where the flame graphs go
   * @param collapsedDir where the collapsed stacks go
   */
  StageBudget(
      String run,
      String kind,
      Cluster cluster,
      Profiler profiler,
      Path flameDir,
      Path collapsedDir) {
    this.run = run;
    this.kind = kind;
    this.cluster = cluster;
    this.profiler = profiler;
    this.flameDir = flameDir;
    this.collapsedDir = collapsedDir;
  }

  /**
   * Loads async-profiler into every process before the run's first job, so that starting it at the
   * window's opening is quick; a process that cannot be loaded is reported like one that cannot be
   * started.
   */
  void prepare() {
    profiled.addAll(cluster.processes());
    long began = System.nanoTime();
    forEachProcess(
        p -> {
          profiler.load(p.pid());
          return null;
        });
    Bench.log(
        "  %s: async-profiler loaded into %d processes in %.1f s%s",
        run, profiled.size(), (System.nanoTime() - began) / 1e9, failed());
  }

  @Override
  public void opened(double finished) {
    if (profiled.isEmpty()) {
      profiled.addAll(cluster.processes()); // not prepared: the attaches happen now, in the window
    }
    // read with the window's opening sample, just before it: the attaches below are in the window
    for (ManagedProcess p : profiled) {
      threadsAtOpen.put(p.name(), ThreadCpu.snapshot(p.pid()));
    }
    long began = System.nanoTime();
    forEachProcess(p -> events.put(p.name(), profiler.start(p.pid(), kind)));
    startSeconds = (System.nanoTime() - began) / 1e9;
    Bench.log(
        "  %s: %s profile of %d processes started in %.1f s%s",
        run, kind, events.size(), startSeconds, failed());
  }

  private String failed() {
    return failures.isEmpty() ? "" : " (not profiled: " + failures + ")";
  }

  @Override
  public void closed(double finished) {
    closedAt = finished;
    long began = System.nanoTime();
    for (ManagedProcess p : profiled) {
      Map<Long, ThreadCpu.ThreadTime> before = threadsAtOpen.get(p.name());
      if (before != null && !before.isEmpty()) {
        threadCpu.put(p.name(), ThreadCpu.between(before, ThreadCpu.snapshot(p.pid())));
      }
    }
    forEachProcess(
        p -> {
          if (!events.containsKey(p.name())) {
            return null; // never started
          }
          Files.createDirectories(flameDir);
          Files.createDirectories(collapsedDir);
          String base = fileName(run) + "-" + p.name() + "-" + kind;
          Path stacks = collapsedDir.resolve(base + ".collapsed");
          Path flame = flameDir.resolve(base + ".html");
          String title = p.name() + ", " + run + ", steady window, " + events.get(p.name());
          profiler.stop(p.pid(), stacks, flame, title, kind.equals("alloc"));
          collapsed.put(p.name(), stacks);
          flameGraphs.put(p.name(), flame);
          return null;
        });
    Bench.log(
        "  %s: %s profiles written in %.1f s to %s%s",
        run, kind, (System.nanoTime() - began) / 1e9, flameDir, failed());
  }

  private interface ProcessCall {
    Object call(ManagedProcess p) throws Exception;
  }

  /** Attaches to every process at once: an attach takes a while, and the window is running. */
  private void forEachProcess(ProcessCall call) {
    try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
      List<CompletableFuture<?>> all = new ArrayList<>();
      for (ManagedProcess p : profiled) {
        all.add(
            CompletableFuture.runAsync(
                () -> {
                  try {
                    call.call(p);
                  } catch (Exception e) {
                    failures.put(p.name(), e.getClass().getSimpleName() + ": " + e.getMessage());
                  }
                },
                pool));
      }
      all.forEach(CompletableFuture::join);
    }
  }

  /**
   * The figures of the window: per process, CPU µs per job by stage (or bytes allocated per job by
   * stage), by kind of thread, and without the JIT; with the profile's event and files.
   *
   * @param steady {@link SteadyCpu#figures()} of the same run
   */
  Map<String, Object> figures(Map<String, Object> steady) {
    Map<String, Object> m = new LinkedHashMap<>();
    if (steady.containsKey("skipped") || Double.isNaN(closedAt)) {
      m.put("skipped", "no steady window: " + steady.getOrDefault("skipped", "not closed"));
      return m;
    }
    double jobs =
        ((Number) steady.get("toJobsFinished")).doubleValue()
            - ((Number) steady.get("fromJobsFinished")).doubleValue();
    @SuppressWarnings("unchecked")
    Map<String, Object> cpuPerJob = (Map<String, Object>) steady.get("cpuMicrosPerJob");
    m.put("kind", kind);
    m.put("events", new LinkedHashMap<>(events));
    m.put("interval", kind.equals("alloc") ? Profiler.ALLOC_INTERVAL : Profiler.CPU_INTERVAL);
    m.put("startSeconds", Math.round(startSeconds * 1000) / 1000.0);
    if (!failures.isEmpty()) {
      m.put("failures", new LinkedHashMap<>(failures));
    }
    Map<String, Object> samples = new LinkedHashMap<>();
    Map<String, Object> byStage = new LinkedHashMap<>();
    Map<String, Double> allByStage = new LinkedHashMap<>();
    Stages.ALL.forEach(s -> allByStage.put(s, 0.0));
    for (ManagedProcess p : profiled) {
      Path file = collapsed.get(p.name());
      if (file == null || !Files.isRegularFile(file)) {
        continue;
      }
      Map<String, Long> stages;
      try {
        stages = Stages.samplesByStage(Files.readAllLines(file));
      } catch (Exception e) {
        failures.put(p.name(), "reading " + file + ": " + e.getMessage());
        continue;
      }
      long total = stages.values().stream().mapToLong(Long::longValue).sum();
      samples.put(p.name(), total);
      if (total == 0) {
        continue;
      }
      Map<String, Object> perStage = new LinkedHashMap<>();
      // CPU: the stage's share of the samples times the process's measured CPU per job; alloc:
      // the profile's bytes (sampled, scaled by async-profiler) over the window's jobs
      double processPerJob =
          kind.equals("alloc")
              ? total / jobs
              : ((Number) cpuPerJob.getOrDefault(p.name(), 0)).doubleValue();
      stages.forEach(
          (stage, n) -> {
            double v = processPerJob * n / total;
            perStage.put(stage, Math.round(v));
            allByStage.merge(stage, v, Double::sum);
          });
      byStage.put(p.name(), perStage);
    }
    Map<String, Object> all = new LinkedHashMap<>();
    allByStage.forEach((stage, v) -> all.put(stage, Math.round(v)));
    byStage.put("all processes", all);
    m.put("samples", samples);
    m.put(kind.equals("alloc") ? "allocatedBytesPerJobByStage" : "cpuMicrosPerJobByStage", byStage);
    if (!kind.equals("alloc")) {
      m.putAll(threadFigures(jobs, cpuPerJob));
    }
    Map<String, Object> files = new LinkedHashMap<>();
    flameGraphs.forEach((name, f) -> files.put(name, f.getFileName().toString()));
    m.put("flameGraphs", files);
    return m;
  }

  /** CPU µs per job by kind of thread (JIT, GC, other), and each process's CPU without the JIT. */
  private Map<String, Object> threadFigures(double jobs, Map<String, Object> cpuPerJob) {
    Map<String, Object> m = new LinkedHashMap<>();
    Map<String, Object> byKind = new LinkedHashMap<>();
    Map<String, Object> withoutJit = new LinkedHashMap<>();
    double allWithout = 0;
    double allJit = 0;
    double allGc = 0;
    for (ManagedProcess p : profiled) {
      Map<String, Double> kinds = threadCpu.get(p.name());
      if (kinds == null) {
        continue;
      }
      Map<String, Object> perJob = new LinkedHashMap<>();
      kinds.forEach((k, seconds) -> perJob.put(k, Math.round(seconds * 1e6 / jobs)));
      byKind.put(p.name(), perJob);
      double jit = kinds.get(ThreadCpu.JIT) * 1e6 / jobs;
      double process = ((Number) cpuPerJob.getOrDefault(p.name(), 0)).doubleValue();
      withoutJit.put(p.name(), Math.round(Math.max(0, process - jit)));
      allWithout += Math.max(0, process - jit);
      allJit += jit;
      allGc += kinds.get(ThreadCpu.GC) * 1e6 / jobs;
    }
    Map<String, Object> all = new LinkedHashMap<>();
    all.put(ThreadCpu.JIT, Math.round(allJit));
    all.put(ThreadCpu.GC, Math.round(allGc));
    byKind.put("all processes", all);
    withoutJit.put("all processes", Math.round(allWithout));
    m.put("threadCpuMicrosPerJob", byKind);
    m.put("cpuMicrosPerJobWithoutJit", withoutJit);
    return m;
  }

  /**
   * Each process's CPU seconds from its start to now, by kind of thread: the start-up's JIT and GC,
   * reported apart from the steady window's. Called once the processes are ready, before any job.
   */
  static Map<String, Object> startup(List<ManagedProcess> processes) {
    Map<String, Object> m = new LinkedHashMap<>();
    for (ManagedProcess p : processes) {
      Map<String, Object> figures = new LinkedHashMap<>();
      double total = ProcessHandle.of(p.pid()).map(Costs::cpuSecondsOf).orElse(0.0);
      figures.put("cpuSeconds", Bench.round(total));
      ThreadCpu.byKind(ThreadCpu.snapshot(p.pid()).values())
          .forEach((k, v) -> figures.put(k + "CpuSeconds", Bench.round(v)));
      m.put(p.name(), figures);
    }
    return m;
  }

  static String fileName(String label) {
    return label.replaceAll("[^A-Za-z0-9]+", "-");
  }
}
