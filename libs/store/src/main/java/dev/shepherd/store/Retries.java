package dev.shepherd.store;

import dev.shepherd.model.JobState;
import java.time.Instant;
import tools.jackson.databind.JsonNode;

/**
 * An operator's "retry now" (see {@code retry_now.lua}): a job waiting for its next attempt is made
 * due at once instead of when its backoff ends. Nothing else of the job changes.
 */
public final class Retries {

  /** What a retry-now did. */
  public sealed interface RetryNow {
    /** No such job. */
    record Missing() implements RetryNow {}

    /** The job does not wait for a retry; {@code state} is the one it is in. */
    record NotWaiting(JobState state) implements RetryNow {}

    /** A released last attempt waits for its outcome (ADR 14); it is left alone. */
    record AwaitsOutcome() implements RetryNow {}

    /**
     * The job is due now.
     *
     * @param dueBefore when its next attempt was due; null when it had no outbox entry (it waited
     *     for a concurrency slot or its ordering key's head, which still decide)
     */
    record DueNow(Instant dueBefore) implements RetryNow {}
  }

  private final StoreContext store;

  Retries(StoreContext store) {
    this.store = store;
  }

  /**
   * Makes the job due now if it waits for a retry.
   *
   * @param by who asked, kept on the job ({@code retryNowBy})
   */
  public RetryNow retryNow(String jobId, String by) {
    int partition = store.keys().partitionOf(jobId);
    if (partition < 0) {
      return new RetryNow.Missing();
    }
    JsonNode reply = store.run(Script.RETRY_NOW, partition, jobId, store.now(), by);
    return switch (reply.get("outcome").asString()) {
      case "MISSING" -> new RetryNow.Missing();
      case "NOT_WAITING" ->
          new RetryNow.NotWaiting(JobState.valueOf(reply.get("state").asString()));
      case "AWAITS_OUTCOME" -> new RetryNow.AwaitsOutcome();
      case "DUE_NOW" ->
          new RetryNow.DueNow(
              reply.has("dueAt")
                  ? Instant.ofEpochMilli(Long.parseLong(reply.get("dueAt").asString()))
                  : null);
      default -> throw new IllegalStateException("retry_now.lua replied " + reply);
    };
  }
}
