package dev.shepherd.e2e.bench;

import dev.shepherd.model.JobEvent;
import dev.shepherd.model.JobState;
import dev.shepherd.model.JobView;
import dev.shepherd.model.TransitionRecord;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Exact percentiles of submit-to-start and submit-to-finish from each job's own timestamps, and of
 * the two parts of the wait before the start: submit-to-stored (the submission's time in the submit
 * queue and the scheduler's intake, up to its history's SUBMIT line) and stored-to-start (the
 * dispatch, the work queue and the worker's claim).
 *
 * @param stored submit-to-stored; the jobs' {@code submittedAt} must be when they were submitted
 *     (the bench's publish time), not when the scheduler stored them, for it to mean anything
 */
record Latency(
    Map<String, Double> start,
    Map<String, Double> finish,
    Map<String, Double> stored,
    Map<String, Double> storedToStart) {

  static Latency of(List<JobView> jobs) {
    List<Long> start = new ArrayList<>();
    List<Long> finish = new ArrayList<>();
    List<Long> stored = new ArrayList<>();
    List<Long> storedToStart = new ArrayList<>();
    for (JobView job : jobs) {
      TransitionRecord submit = null;
      TransitionRecord claim = null;
      for (TransitionRecord h : job.history()) {
        if (h.from() == null && h.to() == JobState.SUBMITTED && submit == null) { // its first line
          submit = h;
        }
        if (h.event() == JobEvent.CLAIM) {
          claim = h;
        }
      }
      if (submit != null) {
        stored.add(Duration.between(job.submittedAt(), submit.at()).toMillis());
      }
      if (claim != null) {
        start.add(Duration.between(job.submittedAt(), claim.at()).toMillis());
        if (submit != null) {
          storedToStart.add(Duration.between(submit.at(), claim.at()).toMillis());
        }
      }
      if (job.finishedAt() != null) {
        finish.add(Duration.between(job.submittedAt(), job.finishedAt()).toMillis());
      }
    }
    return new Latency(
        percentiles(start), percentiles(finish), percentiles(stored), percentiles(storedToStart));
  }

  /**
   * Where the slow jobs are in the run: the jobs whose submit-to-finish took more than {@code
   * overMillis}, counted by the whole second of the run they were submitted in. A tail that fills a
   * second or two is one stall (a pause, a hold-up somewhere on the path); one spread over every
   * second is the load itself.
   *
   * @return {@code overMillis}; {@code jobs} over it; {@code seconds} that hold any of them, of
   *     {@code ofSeconds} in the run; {@code worstSecond} (from 0, the first submission's) and
   *     {@code worstSecondJobs}, the one that holds the most; {@code inWorstTwoSeconds}, the share
   *     of them in the two seconds holding the most
   */
  static Map<String, Object> slowSeconds(List<JobView> jobs, long overMillis) {
    Instant first = null;
    for (JobView job : jobs) {
      if (first == null || job.submittedAt().isBefore(first)) {
        first = job.submittedAt();
      }
    }
    Map<Long, Integer> bySecond = new TreeMap<>();
    long lastSecond = -1;
    int slow = 0;
    for (JobView job : jobs) {
      long second = Duration.between(first, job.submittedAt()).toSeconds();
      lastSecond = Math.max(lastSecond, second);
      if (job.finishedAt() != null
          && Duration.between(job.submittedAt(), job.finishedAt()).toMillis() > overMillis) {
        bySecond.merge(second, 1, Integer::sum);
        slow++;
      }
    }
    List<Map.Entry<Long, Integer>> worst = new ArrayList<>(bySecond.entrySet());
    worst.sort(Map.Entry.<Long, Integer>comparingByValue().reversed());
    int worstTwo = worst.stream().limit(2).mapToInt(Map.Entry::getValue).sum();
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("overMillis", overMillis);
    m.put("jobs", slow);
    m.put("seconds", bySecond.size());
    m.put("ofSeconds", lastSecond + 1);
    m.put("worstSecond", worst.isEmpty() ? null : worst.get(0).getKey());
    m.put("worstSecondJobs", worst.isEmpty() ? 0 : worst.get(0).getValue());
    m.put("inWorstTwoSeconds", slow == 0 ? 0.0 : Math.round(1000.0 * worstTwo / slow) / 1000.0);
    return m;
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
