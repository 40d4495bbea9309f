package dev.shepherd.e2e.bench;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Supplier;

/**
 * CPU time per job of each process in the steady part of a run: from the progress sample at which
 * 20 % of the jobs had finished to the one at which 90 % had, so start-up, warm-up and the tail
 * (the last jobs trickling through fewer busy slots) are left out. Both ends read the jobs finished
 * and every process's CPU time at the same moment, so the ratio does not depend on how often the
 * run is sampled. The broker's and Redis's CPU over the same window is reported beside them (the
 * machine's whole cost per job), when this user may read those processes.
 */
final class SteadyCpu {

  static final double FROM = 0.2;
  static final double TO = 0.9;

  /** Issue 14's target for all of Shepherd's processes together. */
  static final double TARGET_MICROS_PER_JOB = 1_000;

  private final int jobs;
  private final Supplier<Map<String, Double>> cpuSeconds;
  private final Supplier<Map<String, Double>> infrastructure;
  private Sample from;
  private Sample to;
  private Edges edges = new Edges() {};

  /**
   * What else happens at the window's two edges: right after the opening's CPU sample (starting a
   * profile attaches to every process, which can take seconds on a busy machine: the window is
   * already open, so a slow start cannot lose it), and right after the closing's.
   */
  interface Edges {
    default void opened(double finished) {}

    default void closed(double finished) {}
  }

  private record Sample(
      double finished, long nanos, Map<String, Double> cpuSeconds, Map<String, Double> shared) {}

  /**
   * @param jobs the run's size
   * @param cpuSeconds each process's CPU seconds so far, by name (see {@link Costs#cpuSecondsOf})
   */
  SteadyCpu(int jobs, Supplier<Map<String, Double>> cpuSeconds) {
    this(jobs, cpuSeconds, Costs::infrastructureCpuSeconds);
  }

  /**
   * @param infrastructure the broker's and Redis's CPU seconds so far, reported beside the
   *     processes of the system measured and not added to them
   */
  SteadyCpu(
      int jobs,
      Supplier<Map<String, Double>> cpuSeconds,
      Supplier<Map<String, Double>> infrastructure) {
    this.jobs = jobs;
    this.cpuSeconds = cpuSeconds;
    this.infrastructure = infrastructure;
  }

  /** Calls {@code edges} when the window opens and when it closes. */
  SteadyCpu withEdges(Edges edges) {
    this.edges = edges;
    return this;
  }

  /** Called with every progress sample of the run: jobs finished so far. */
  void observe(double finished) {
    if (from == null && finished >= FROM * jobs) {
      from = sample(finished);
      edges.opened(finished);
    } else if (from != null && to == null && finished >= TO * jobs) {
      to = sample(finished);
      edges.closed(finished);
    }
  }

  private Sample sample(double finished) {
    return new Sample(finished, System.nanoTime(), cpuSeconds.get(), infrastructure.get());
  }

  /**
   * CPU microseconds per job of each process and of all together, with the window; or why there is
   * none (a run too short to be sampled twice between 20 % and 90 %).
   */
  Map<String, Object> figures() {
    Map<String, Object> m = new LinkedHashMap<>();
    if (to == null || to.finished() <= from.finished()) {
      m.put("skipped", "the run was too short to sample a steady window (20 % to 90 % finished)");
      return m;
    }
    double window = to.finished() - from.finished();
    m.put("fromJobsFinished", (long) from.finished());
    m.put("toJobsFinished", (long) to.finished());
    m.put("seconds", Bench.round((to.nanos() - from.nanos()) / 1e9));
    Map<String, Object> perProcess = new LinkedHashMap<>();
    double all = 0;
    for (var e : to.cpuSeconds().entrySet()) {
      // a process started inside the window counts from zero
      double used = e.getValue() - from.cpuSeconds().getOrDefault(e.getKey(), 0.0);
      perProcess.put(e.getKey(), Math.round(used * 1e6 / window));
      all += used;
    }
    m.put("cpuMicrosPerJob", perProcess);
    m.put("cpuMicrosPerJobAllProcesses", Math.round(all * 1e6 / window));
    // what the same jobs cost the broker and Redis that both systems share
    Map<String, Object> shared = new LinkedHashMap<>();
    double sharedAll = 0;
    for (var e : to.shared().entrySet()) {
      Double before = from.shared().get(e.getKey());
      if (before != null) {
        double used = e.getValue() - before;
        shared.put(e.getKey(), Math.round(used * 1e6 / window));
        sharedAll += used;
      }
    }
    if (!shared.isEmpty()) {
      m.put("infrastructureCpuMicrosPerJob", shared);
      m.put("cpuMicrosPerJobWithInfrastructure", Math.round((all + sharedAll) * 1e6 / window));
    }
    return m;
  }
}
