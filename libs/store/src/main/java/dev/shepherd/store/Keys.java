package dev.shepherd.store;

import dev.shepherd.model.JobIds;
import dev.shepherd.model.JobState;

/**
 * Every Redis key name the Java side of the store reads or writes, built here and nowhere else (the
 * scripts build the same names in {@code lua/prelude.lua}). A partition's keys start with its base,
 * {@code <prefix>:{pNN}:}, whose hash tag keeps the partition in one Redis Cluster slot; index
 * names such as {@link #JOBS} or {@link #stateIndex} are relative to that base.
 */
public final class Keys {

  /** Every job of a partition, scored by when it was submitted. */
  public static final String JOBS = "jobs";

  /** Dead-job records, scored by when the job died. */
  public static final String DEAD = "dead";

  /** Discarded dead-job records, scored by when they were discarded. */
  public static final String DISCARDED = "discarded";

  /** Held leases, scored by when they expire. */
  public static final String LEASES = "leases";

  /** The outbox: entries scored by when they are due. */
  public static final String DUE = "due";

  private final StoreSettings settings;

  public Keys(StoreSettings settings) {
    this.settings = settings;
  }

  public int partitions() {
    return settings.partitions();
  }

  /** The partition a job id (or dead-job record id) names, or -1 for a foreign id. */
  public int partitionOf(String jobId) {
    return JobIds.partitionOf(jobId, settings.partitions());
  }

  /** The partition whose {@code idem:} key holds this idempotency key. */
  public int partitionOfKey(String idempotencyKey) {
    return JobIds.partitionForKey(idempotencyKey, settings.partitions());
  }

  /** The key base of a partition, e.g. {@code shepherd:{p07}:}; the scripts' {@code KEYS[1]}. */
  public String base(int partition) {
    return "%s:{p%02d}:".formatted(settings.prefix(), partition);
  }

  /** A key of a partition: {@code name} after the partition's base. */
  public String of(int partition, String name) {
    return base(partition) + name;
  }

  /** The hash of one job. */
  public String job(int partition, String jobId) {
    return of(partition, "job:" + jobId);
  }

  /** The hash of one job, in the partition its id names. */
  public String job(String jobId) {
    return job(partitionOf(jobId), jobId);
  }

  /** A dead-job record (JSON). */
  public String deadRecord(int partition, String recordId) {
    return of(partition, "deadrec:" + recordId);
  }

  /** A dead-job record (JSON), in the partition its id names. */
  public String deadRecord(String recordId) {
    return deadRecord(partitionOf(recordId), recordId);
  }

  /** The id of the job an idempotency key made. */
  public String idempotencyKey(String key) {
    return of(partitionOfKey(key), "idem:" + key);
  }

  /** The index of the jobs in one state. */
  public static String stateIndex(JobState state) {
    return "state:" + state.name();
  }

  /** The jobs of one pool that are QUEUED and not yet claimed, scored by when they were queued. */
  public static String queuedIndex(String pool) {
    return "queued:" + pool;
  }

  /** The jobs of one pool put back into the outbox after waiting QUEUED too long. */
  public static String requeuedIndex(String pool) {
    return "requeued:" + pool;
  }

  /** The installation-wide key a write probe sets. */
  public String probe() {
    return settings.prefix() + ":probe";
  }

  /** The installation-wide hash of registered workers. */
  public String workers() {
    return settings.prefix() + ":workers";
  }
}
