package dev.shepherd.worker;

import java.util.List;

/**
 * The jobs one attempt of a {@link BatchHandler} runs (ADR 31): the claimed job first, then the
 * next waiting jobs of its ordering key, in the key's order. They succeed or fail together: the
 * attempt's outcome is each one's.
 *
 * @param transactionId grows with each transaction of the ordering key and stays the same for every
 *     attempt of one, so a destination that applied a transaction already can drop it again
 *     (delivery is at least once); 0 for a job without an ordering key, which runs alone
 * @param jobs the jobs, at least one, each with its payload bound to the handler's payload type
 * @param <P> the payload type
 */
public record Batch<P>(long transactionId, List<Job<P>> jobs) {

  public Batch {
    jobs = List.copyOf(jobs);
    if (jobs.isEmpty()) {
      throw new IllegalArgumentException("a batch has at least one job");
    }
  }

  /** One job of the batch. */
  public record Job<P>(String jobId, P payload) {}

  /** The payloads, in order. */
  public List<P> payloads() {
    return jobs.stream().map(Job::payload).toList();
  }
}
