package dev.shepherd.engine.recovery;

import dev.shepherd.store.JobStore;
import dev.shepherd.store.WorkerRegistry;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps Redis memory bounded (DESIGN.md invariant 8): finished jobs and dead-job records expire by
 * themselves, and this pass takes their members out of every index of every partition once the
 * retention of what they point at has passed, whether or not a listing ever reaches them. It also
 * forgets workers silent for longer than the retention. One script call per partition per index
 * batch; several recovery instances may run it at once, as every batch is one atomic script.
 */
public final class IndexTrim {

  private static final Logger log = LoggerFactory.getLogger(IndexTrim.class);

  private final JobStore store;
  private final WorkerRegistry workers;
  private final List<JobStore.Index> indexes;
  private final int batchSize;

  /**
   * @param pools the worker pools, whose per-pool indexes are walked too
   * @param batchSize index members looked at per script call
   */
  public IndexTrim(
      JobStore store, WorkerRegistry workers, Collection<String> pools, int batchSize) {
    this.store = store;
    this.workers = workers;
    this.indexes = store.trimmedIndexes(pools);
    this.batchSize = batchSize;
  }

  /** One pass over every index of every partition; returns how many entries went. */
  public int trimOnce() {
    int removed = 0;
    for (int partition = 0; partition < store.partitions(); partition++) {
      for (JobStore.Index index : indexes) {
        JobStore.TrimBatch batch;
        int offset = 0;
        do {
          batch = store.trimIndex(partition, index, offset, batchSize);
          removed += batch.removed();
          offset = batch.next();
        } while (batch.more());
      }
    }
    Duration retention = store.settings().retention();
    if (!retention.isZero()) {
      removed += workers.forgetLost(retention);
    }
    if (removed > 0) {
      log.info("trimmed {} index entries of expired jobs and records", removed);
    }
    return removed;
  }
}
