package dev.shepherd.store;

import dev.shepherd.model.JobIds;
import dev.shepherd.model.JobState;
import dev.shepherd.model.JobTimeouts;
import dev.shepherd.model.Json;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.ThreadLocalRandom;
import tools.jackson.databind.JsonNode;

/**
 * New jobs: each is stored with its outbox entry and its idempotency key in one script, so a job is
 * never stored without being dispatched later, and a repeated key returns the first job.
 */
public final class Submissions {

  private final StoreContext store;

  Submissions(StoreContext store) {
    this.store = store;
  }

  /** Stores a new job with its outbox entry, or returns the job its idempotency key names. */
  public SubmitOutcome submit(NewJob job) {
    return submit(job, null);
  }

  /**
   * As {@link #submit(NewJob)}, and a new job due now has its outbox entry reserved for the caller
   * in the same call ({@link SubmitOutcome.Accepted#reserved()}), hidden from dispatchers for
   * {@code reserveFor} as {@link Outbox#reserveDue} would: the caller publishes it and marks it
   * dispatched, and if it never does, the entry is published by a dispatcher after that time.
   *
   * @param reserveFor how long the entry stays reserved; null to reserve nothing
   */
  public SubmitOutcome submit(NewJob job, Duration reserveFor) {
    int partition = partitionOf(job);
    String id = JobIds.newId(partition);
    long now = store.clock().millis();
    long notBefore = job.notBefore() == null ? now : job.notBefore().toEpochMilli();
    JsonNode reply =
        store.run(
            Script.SUBMIT,
            partition,
            id,
            job.type(),
            job.pool(),
            job.payloadJson(),
            job.idempotencyKey() == null ? "" : job.idempotencyKey(),
            Long.toString(notBefore),
            Integer.toString(job.maxAttempts()),
            Long.toString(now),
            job.traceparent() == null ? "" : job.traceparent(),
            millisOrEmpty(job.timeouts().startToClose()),
            millisOrEmpty(job.timeouts().stall()),
            phaseLimits(job.timeouts()),
            millisOrEmpty(job.timeouts().scheduleToStart()),
            job.timeouts().failAtScheduleToStart() ? "1" : "",
            reserveFor == null ? "" : Long.toString(reserveFor.toMillis()),
            job.orderingKey() == null ? "" : job.orderingKey(),
            job.concurrencyKey() == null ? "" : job.concurrencyKey(),
            job.concurrencyKey() == null ? "" : Integer.toString(job.concurrencyLimit()),
            job.blocksItsKey() ? "block" : "",
            job.batch() == null ? "" : Integer.toString(job.batch().maxJobs()),
            job.batch() == null ? "" : Long.toString(job.batch().maxBytes()));
    String jobId = reply.get("id").asString();
    JobState state = JobState.valueOf(reply.get("state").asString());
    if ("DUPLICATE".equals(reply.get("outcome").asString())) {
      return new SubmitOutcome.Duplicate(jobId, state);
    }
    DueEntry reserved =
        reply.path("reserved").asBoolean(false)
            ? new DueEntry(
                jobId,
                job.type(),
                job.pool(),
                1,
                job.payloadJson(),
                Instant.ofEpochMilli(now),
                job.traceparent() == null || job.traceparent().isEmpty() ? null : job.traceparent())
            : null;
    return new SubmitOutcome.Accepted(jobId, state, reserved);
  }

  /**
   * Where the job lives: its ordering key's partition, where the key's order is kept (ADR 29), or
   * its concurrency key's, where the key's slots are (ADR 30); else its idempotency key's, so a
   * repeated key finds it; else any. A keyed job's idempotency key lives in the ordering or
   * concurrency key's partition with it.
   */
  private int partitionOf(NewJob job) {
    if (job.orderingKey() != null) {
      return store.keys().partitionOfKey(job.orderingKey());
    }
    if (job.concurrencyKey() != null) {
      return store.keys().partitionOfKey(job.concurrencyKey());
    }
    if (job.idempotencyKey() != null) {
      return store.keys().partitionOfKey(job.idempotencyKey());
    }
    return ThreadLocalRandom.current().nextInt(store.keys().partitions());
  }

  /** The phase limits as the scripts read them, {@code {"render": 120000}}; '' for none. */
  private static String phaseLimits(JobTimeouts timeouts) {
    if (timeouts.phases().isEmpty()) {
      return "";
    }
    var limits = Json.mapper().createObjectNode();
    timeouts.phases().forEach((phase, limit) -> limits.put(phase, limit.toMillis()));
    return limits.toString();
  }

  private static String millisOrEmpty(Duration duration) {
    return duration == null ? "" : Long.toString(duration.toMillis());
  }
}
