package dev.shepherd.engine.recovery;

import dev.shepherd.store.Indexes;
import dev.shepherd.store.WorkerRegistry;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.function.Supplier;
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

  private final Indexes indexes;
  private final WorkerRegistry workers;
  private final Supplier<? extends Collection<String>> pools;
  private final int batchSize;

  /**
   * @param pools the worker pools, whose per-pool indexes are walked too
   * @param batchSize index members looked at per script call
   */
  public IndexTrim(
      Indexes indexes, WorkerRegistry workers, Collection<String> pools, int batchSize) {
    this(indexes, workers, fixed(pools), batchSize);
  }

  /**
   * @param pools the worker pools, asked on each pass ({@link KnownPools}: announced ones too)
   * @param batchSize index members looked at per script call
   */
  public IndexTrim(
      Indexes indexes,
      WorkerRegistry workers,
      Supplier<? extends Collection<String>> pools,
      int batchSize) {
    this.indexes = indexes;
    this.workers = workers;
    this.pools = pools;
    this.batchSize = batchSize;
  }

  private static Supplier<List<String>> fixed(Collection<String> pools) {
    List<String> copy = List.copyOf(pools);
    return () -> copy;
  }

  /** One pass over every index of every partition; returns how many entries went. */
  public int trimOnce() {
    int removed = 0;
    List<Indexes.Index> trimmed = indexes.trimmedIndexes(pools.get());
    for (int partition = 0; partition < indexes.partitions(); partition++) {
      for (Indexes.Index index : trimmed) {
        Indexes.TrimBatch batch;
        int offset = 0;
        do {
          batch = indexes.trimIndex(partition, index, offset, batchSize);
          removed += batch.removed();
          offset = batch.next();
        } while (batch.more());
      }
    }
    Duration retention = indexes.retention();
    if (!retention.isZero()) {
      removed += workers.forgetLost(retention);
    }
    if (removed > 0) {
      log.info("trimmed {} index entries of expired jobs and records", removed);
    }
    return removed;
  }
}
