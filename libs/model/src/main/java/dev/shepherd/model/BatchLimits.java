package dev.shepherd.model;

/**
 * How large a transaction of a job type that takes batches may grow (ADR 31): the head of an
 * ordering key carries up to {@code maxJobs - 1} of the key's next waiting jobs of its type in one
 * attempt, as long as their payloads come to at most {@code maxBytes} in all (0: no byte limit).
 *
 * @param maxJobs at least 2 (1 would be no batch)
 * @param maxBytes the payload bytes of one transaction, head included; 0 for no limit
 */
public record BatchLimits(int maxJobs, long maxBytes) {

  public BatchLimits {
    if (maxJobs < 2) {
      throw new IllegalArgumentException("a batch takes at least 2 jobs, was " + maxJobs);
    }
    if (maxBytes < 0) {
      throw new IllegalArgumentException("a batch's byte limit cannot be negative: " + maxBytes);
    }
  }
}
