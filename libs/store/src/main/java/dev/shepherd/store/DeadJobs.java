package dev.shepherd.store;

import dev.shepherd.model.DeadJob;
import dev.shepherd.model.JobIds;
import dev.shepherd.model.Json;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Dead-job records: input that could not become a job, and jobs that went DEAD. Records are written
 * by whoever met the input, and listed, redriven (one more attempt) or discarded by an operator; a
 * discarded record keeps who discarded it and when.
 */
public final class DeadJobs {

  /** What a redrive did. */
  public enum RedriveOutcome {
    /** The job is QUEUED again for one more attempt. */
    REDRIVEN,
    /** The record names no job (the input never became one), or the job is gone. */
    NO_JOB,
    /** The job is not DEAD (already redriven, or it never died). */
    NOT_DEAD
  }

  private final StoreContext store;

  DeadJobs(StoreContext store) {
    this.store = store;
  }

  /** Records input that could not become a job; returns the record. */
  public DeadJob recordDead(String jobId, String type, String reason, String source, String raw) {
    int partition = ThreadLocalRandom.current().nextInt(store.keys().partitions());
    var record =
        new DeadJob(
            JobIds.newId(partition), jobId, type, reason, source, 0, store.clock().instant(), raw);
    store.run(
        Script.RECORD_DEAD,
        partition,
        record.id(),
        Json.mapper().writeValueAsString(record),
        store.now());
    return record;
  }

  /** Puts the DEAD job a dead-job record names back for one more attempt. */
  public RedriveOutcome redrive(String recordId, String by) {
    DeadJob record = findDead(recordId).orElse(null);
    String jobId = record == null ? recordId : record.jobId();
    int partition = store.keys().partitionOf(jobId);
    if (jobId == null || partition < 0) {
      return RedriveOutcome.NO_JOB;
    }
    String outcome =
        store.run(Script.REDRIVE, partition, jobId, store.now(), by).get("outcome").asString();
    return switch (outcome) {
      case "REDRIVEN" -> RedriveOutcome.REDRIVEN;
      case "NOT_DEAD" -> RedriveOutcome.NOT_DEAD;
      default -> RedriveOutcome.NO_JOB;
    };
  }

  /** Moves a dead-job record to the discarded ones, keeping who and when; false if none. */
  public boolean discardDead(String recordId, String by) {
    int partition = store.keys().partitionOf(recordId);
    return partition >= 0
        && "DISCARDED"
            .equals(
                store
                    .run(Script.DISCARD, partition, recordId, by, store.now())
                    .get("outcome")
                    .asString());
  }

  public Optional<DeadJob> findDead(String recordId) {
    int partition = store.keys().partitionOf(recordId);
    return partition < 0 ? Optional.empty() : Optional.ofNullable(read(partition, recordId));
  }

  /** The newest discarded dead-job records, newest first. */
  public List<DeadJob> listDiscarded(int limit) {
    return newest(Keys.DISCARDED, limit);
  }

  /** The newest dead-job records across all partitions, newest first. */
  public List<DeadJob> listDead(int limit) {
    return newest(Keys.DEAD, limit);
  }

  private List<DeadJob> newest(String index, int limit) {
    List<DeadJob> records = new ArrayList<>();
    for (NewestMembers.Member m : NewestMembers.of(store, List.of(index), limit)) {
      DeadJob record = read(m.partition(), m.id());
      if (record != null) {
        records.add(record);
      }
    }
    return records;
  }

  private DeadJob read(int partition, String recordId) {
    String json = store.redis().opsForValue().get(store.keys().deadRecord(partition, recordId));
    return json == null ? null : Replies.deadJob(json);
  }
}
