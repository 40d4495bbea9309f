package dev.shepherd.e2e;

import dev.shepherd.model.JobState;
import dev.shepherd.model.JobView;
import dev.shepherd.model.PhaseView;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Figures over a set of finished jobs, for the demo's summary and the end-to-end reports: {@code
 * ranOnADistributor} counts the jobs an attempt of which ran on a distributor (ADR 45).
 */
public record Stats(
    Map<JobState, Integer> byState,
    int retried,
    int ranOnADistributor,
    Duration p50,
    Duration p99,
    Map<String, Double> meanPhaseMillis) {

  public static Stats of(Collection<JobView> jobs) {
    Map<JobState, Integer> byState = new EnumMap<>(JobState.class);
    List<Long> latencies = new ArrayList<>();
    Map<String, long[]> phases = new TreeMap<>();
    int retried = 0;
    int distributed = 0;
    for (JobView job : jobs) {
      if (job.tasks() != null && !job.tasks().isEmpty()) {
        distributed++;
      }
      byState.merge(job.state(), 1, Integer::sum);
      if (job.attempt() > 1) {
        retried++;
      }
      if (job.finishedAt() != null && job.submittedAt() != null) {
        latencies.add(Duration.between(job.submittedAt(), job.finishedAt()).toMillis());
      }
      for (PhaseView phase : job.phases() == null ? List.<PhaseView>of() : job.phases()) {
        if (phase.durationMillis() != null) {
          long[] sumAndCount = phases.computeIfAbsent(phase.name(), k -> new long[2]);
          sumAndCount[0] += phase.durationMillis();
          sumAndCount[1]++;
        }
      }
    }
    latencies.sort(null);
    Map<String, Double> means = new TreeMap<>();
    phases.forEach((name, sc) -> means.put(name, (double) sc[0] / sc[1]));
    return new Stats(
        byState,
        retried,
        distributed,
        percentile(latencies, 0.50),
        percentile(latencies, 0.99),
        means);
  }

  /** Nearest-rank percentile; zero for no samples. */
  static Duration percentile(List<Long> sorted, double p) {
    if (sorted.isEmpty()) {
      return Duration.ZERO;
    }
    int rank = (int) Math.ceil(p * sorted.size());
    return Duration.ofMillis(sorted.get(Math.max(0, rank - 1)));
  }

  public int count(JobState state) {
    return byState.getOrDefault(state, 0);
  }
}
