package dev.shepherd.store;

import dev.shepherd.model.JobState;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.List;
import tools.jackson.databind.JsonNode;

/**
 * The indexes of every partition as the trim pass sees them: which ones it walks, with the
 * retention of what they point at, and one batch of one index trimmed per script call, so members
 * of expired jobs and records go even when no listing ever reaches them.
 */
public final class Indexes {

  /**
   * One index of a partition and how a trim pass finds its members that point at nothing.
   *
   * @param name the key after the partition's base ({@code state:SUCCEEDED}, {@code jobs}, ...)
   * @param byScore the score is when the retention of what the member points at began, so every
   *     member scored more than {@code retention} ago goes; otherwise such members go only when
   *     their job is gone
   * @param records the members are dead-job record ids, and their records go with them
   */
  public record Index(String name, boolean byScore, Duration retention, boolean records) {}

  /** What one trim batch did: members removed, where the next batch starts, whether to go on. */
  public record TrimBatch(int removed, int next, boolean more) {}

  private final StoreContext store;

  Indexes(StoreContext store) {
    this.store = store;
  }

  public int partitions() {
    return store.keys().partitions();
  }

  /** How long finished jobs are kept ({@link StoreSettings#retention()}). */
  public Duration retention() {
    return store.settings().retention();
  }

  /**
   * The indexes of every partition that a trim pass walks, each with the retention of what it
   * points at. Finished jobs leave their terminal state's index, DEAD jobs and dead-job records the
   * dead, discarded and DEAD indexes, by score; the job index and the indexes of unfinished jobs
   * (which should never name a missing job) are checked member by member. Leases, the outbox and
   * the timeout deadlines are not here: the lease reaper, the dispatcher and the timeout pass drop
   * their members of finished jobs (and a job leaving RUNNING leaves the timeout set at once).
   *
   * @param pools the worker pools, whose {@code queued:<pool>} and {@code requeued:<pool>} indexes
   *     are walked too
   */
  public List<Index> trimmedIndexes(Collection<String> pools) {
    Duration retention = store.settings().retention();
    Duration dead = store.settings().deadRetention();
    List<Index> indexes = new ArrayList<>();
    if (!retention.isZero()) {
      for (JobState state : List.of(JobState.SUCCEEDED, JobState.CANCELLED)) {
        indexes.add(new Index(Keys.stateIndex(state), true, retention, false));
      }
    }
    if (!dead.isZero()) {
      indexes.add(new Index(Keys.stateIndex(JobState.DEAD), true, dead, false));
      indexes.add(new Index(Keys.DEAD, true, dead, true));
      indexes.add(new Index(Keys.DISCARDED, true, dead, true));
    }
    // a job is gone at the earliest this long after its last change
    Duration shortest =
        retention.isZero()
            ? dead
            : dead.isZero() ? retention : Collections.min(List.of(retention, dead));
    if (!shortest.isZero()) {
      indexes.add(new Index(Keys.JOBS, false, shortest, false));
      for (JobState state : JobState.values()) {
        // the RUNNING jobs' index is the leases', which the reaper keeps (ADR 38); the QUEUED
        // jobs' are the pools' queued indexes, below (ADR 51)
        if (!state.isTerminal() && state != JobState.RUNNING && state != JobState.QUEUED) {
          indexes.add(new Index(Keys.stateIndex(state), false, shortest, false));
        }
      }
      // what the scripts wrote there before ADR 38 and ADR 51 goes once its jobs are gone
      indexes.add(new Index(Keys.FORMER_RUNNING_INDEX, false, shortest, false));
      indexes.add(new Index(Keys.FORMER_QUEUED_INDEX, false, shortest, false));
      for (String pool : pools) {
        indexes.add(new Index(Keys.queuedIndex(pool), false, shortest, false));
        indexes.add(new Index(Keys.requeuedIndex(pool), false, shortest, false));
      }
    }
    return indexes;
  }

  /**
   * Trims one batch of one index of one partition: up to {@code limit} members, starting at {@code
   * offset} among the members older than the index's retention.
   */
  public TrimBatch trimIndex(int partition, Index index, int offset, int limit) {
    JsonNode reply =
        store.run(
            Script.TRIM_INDEXES,
            partition,
            index.name(),
            index.byScore() ? "score" : "exists",
            Long.toString(store.clock().millis() - index.retention().toMillis()),
            Integer.toString(offset),
            Integer.toString(limit),
            Boolean.toString(index.records()));
    return new TrimBatch(
        reply.get("removed").asInt(), reply.get("next").asInt(), reply.get("more").asBoolean());
  }
}
