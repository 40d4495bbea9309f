package dev.shepherd.e2e.bench;

import dev.shepherd.e2e.Cluster;
import dev.shepherd.model.JobView;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The two curves of issue 14: throughput against the number of workers (each its own process, as on
 * Kubernetes), and submit-to-finish latency against offered load, stepped up past the measured
 * throughput so the knee shows. Both reuse the bench's own scenarios: a step of the scaling curve
 * is the throughput scenario with that many workers, a step of the load curve is the latency
 * scenario at that rate.
 */
final class Curves {

  /**
   * What one run measures.
   *
   * @param workers the worker counts of the scaling curve
   * @param loadFractions the offered loads of the load curve, as fractions of the best throughput
   * @param loadStep how long each load is offered
   */
  record Plan(List<Integer> workers, List<Double> loadFractions, Duration loadStep) {

    static Plan of(String mode) {
      if (mode.equals("quick")) {
        return new Plan(List.of(1, 2, 4), List.of(0.25, 0.75, 1.10), Duration.ofSeconds(1));
      }
      return new Plan(
          List.of(1, 2, 4, 8),
          List.of(0.10, 0.25, 0.50, 0.75, 0.90, 1.00, 1.10),
          Duration.ofSeconds(20));
    }
  }

  /** The throughput scenario: runs it with the workers running now, records it under the label. */
  @FunctionalInterface
  interface Throughput {
    double run(String label) throws Exception;
  }

  /** The latency scenario's steady submitter: job ids submitted at {@code rate} for a while. */
  @FunctionalInterface
  interface SteadyLoad {
    List<String> submit(double rate, Duration duration) throws Exception;
  }

  /** The latency scenario's wait for the jobs to finish. */
  @FunctionalInterface
  interface Finished {
    List<JobView> await(List<String> ids) throws Exception;
  }

  /**
   * A completion rate below this share of the offered rate means the jobs queue up faster than they
   * finish: the step is past saturation.
   */
  static final double SATURATED_BELOW = 0.9;

  private final Plan plan;
  private final Cluster cluster;

  Curves(Plan plan, Cluster cluster) {
    this.plan = plan;
    this.cluster = cluster;
  }

  /**
   * Jobs/s with each of the plan's worker counts. Counts already measured (their label is in {@code
   * throughputRuns}) are taken as they are; the others are run from the largest down, so the
   * cluster ends with the fewest workers. Returns {@code {"jobsPerSecondByWorkers": {"1": ...}}}.
   */
  Map<String, Object> scaling(Map<String, Object> throughputRuns, Throughput throughput)
      throws Exception {
    List<Integer> counts = new ArrayList<>(plan.workers());
    counts.sort(java.util.Comparator.reverseOrder());
    for (int n : counts) {
      if (!throughputRuns.containsKey(label(n))) {
        Bench.log("scaling: %d worker(s)", n);
        cluster.scaleWorkers(n);
        throughput.run(label(n));
      }
    }
    Map<String, Object> byWorkers = new LinkedHashMap<>();
    for (int n : plan.workers()) {
      Map<?, ?> run = (Map<?, ?>) throughputRuns.get(label(n));
      byWorkers.put(Integer.toString(n), run.get("jobsPerSecond"));
    }
    Map<String, Object> figures = new LinkedHashMap<>();
    figures.put("slotsPerWorker", Bench.SLOTS_PER_WORKER);
    figures.put("jobsPerSecondByWorkers", byWorkers);
    Bench.log("scaling: jobs/s by workers %s", byWorkers);
    return figures;
  }

  /** The throughput scenario's label for n workers ("1 worker", "2 workers"). */
  static String label(int n) {
    return n == 1 ? "1 worker" : n + " workers";
  }

  /**
   * Submit-to-start and submit-to-finish percentiles at each of the plan's offered loads, with the
   * workers running now, and the rate the jobs actually finished at.
   */
  Map<String, Object> loadCurve(double throughput, SteadyLoad load, Finished finished)
      throws Exception {
    List<Map<String, Object>> steps = new ArrayList<>();
    for (double fraction : plan.loadFractions()) {
      double rate = throughput * fraction;
      Bench.log(
          "load curve: %.0f jobs/s (%.0f%% of throughput) for %s",
          rate, fraction * 100, plan.loadStep());
      List<JobView> jobs = finished.await(load.submit(rate, plan.loadStep()));
      Latency l = Latency.of(jobs);
      double completed = completedPerSecond(jobs);
      Map<String, Object> step = new LinkedHashMap<>();
      step.put("fractionOfThroughput", fraction);
      step.put("offeredJobsPerSecond", Bench.round(rate));
      step.put("completedJobsPerSecond", Bench.round(completed));
      step.put("saturated", completed < rate * SATURATED_BELOW);
      step.put("jobs", jobs.size());
      step.put("submitToStartMillis", l.start());
      step.put("submitToFinishMillis", l.finish());
      steps.add(step);
      Bench.log(
          "load curve at %.0f jobs/s: %.0f completed/s, submit-to-finish p50 %.1f ms, p99 %.1f ms",
          rate, completed, l.finish().get("p50"), l.finish().get("p99"));
    }
    Map<String, Object> figures = new LinkedHashMap<>();
    figures.put("workers", cluster.workers().size());
    figures.put("throughputJobsPerSecond", Bench.round(throughput));
    figures.put("stepSeconds", plan.loadStep().toSeconds());
    figures.put("steps", steps);
    return figures;
  }

  /** Jobs finished per second from the first submission to the last finish. */
  static double completedPerSecond(List<JobView> jobs) {
    Instant first =
        jobs.stream()
            .map(JobView::submittedAt)
            .filter(Objects::nonNull)
            .min(Instant::compareTo)
            .orElse(null);
    Instant last =
        jobs.stream()
            .map(JobView::finishedAt)
            .filter(Objects::nonNull)
            .max(Instant::compareTo)
            .orElse(null);
    if (first == null || last == null || !last.isAfter(first)) {
      return 0;
    }
    long done = jobs.stream().filter(j -> j.finishedAt() != null).count();
    return done / (Duration.between(first, last).toNanos() / 1e9);
  }
}
