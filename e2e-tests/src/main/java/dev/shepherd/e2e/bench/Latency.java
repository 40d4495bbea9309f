package dev.shepherd.e2e.bench;

import dev.shepherd.model.JobEvent;
import dev.shepherd.model.JobView;
import dev.shepherd.model.TransitionRecord;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Exact percentiles of submit-to-start and submit-to-finish from each job's own timestamps. */
record Latency(Map<String, Double> start, Map<String, Double> finish) {

  static Latency of(List<JobView> jobs) {
    List<Long> start = new ArrayList<>();
    List<Long> finish = new ArrayList<>();
    for (JobView job : jobs) {
      TransitionRecord claim = null;
      for (TransitionRecord h : job.history()) {
        if (h.event() == JobEvent.CLAIM) {
          claim = h;
        }
      }
      if (claim != null) {
        start.add(Duration.between(job.submittedAt(), claim.at()).toMillis());
      }
      if (job.finishedAt() != null) {
        finish.add(Duration.between(job.submittedAt(), job.finishedAt()).toMillis());
      }
    }
    return new Latency(percentiles(start), percentiles(finish));
  }

  static Map<String, Double> percentiles(List<Long> values) {
    List<Long> sorted = new ArrayList<>(values);
    sorted.sort(null);
    Map<String, Double> m = new LinkedHashMap<>();
    m.put("p50", at(sorted, 0.50));
    m.put("p95", at(sorted, 0.95));
    m.put("p99", at(sorted, 0.99));
    m.put("max", sorted.isEmpty() ? Double.NaN : (double) sorted.get(sorted.size() - 1));
    return m;
  }

  private static double at(List<Long> sorted, double q) {
    if (sorted.isEmpty()) {
      return Double.NaN;
    }
    int rank = (int) Math.ceil(q * sorted.size());
    return sorted.get(Math.max(0, rank - 1));
  }
}
