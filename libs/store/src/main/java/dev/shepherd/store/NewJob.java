package dev.shepherd.store;

import dev.shepherd.model.BatchLimits;
import dev.shepherd.model.JobTimeouts;
import java.time.Instant;

/**
 * A validated submission, ready to be stored.
 *
 * @param payloadJson the payload as JSON text, stored as received
 * @param idempotencyKey null when the producer gave none
 * @param notBefore null to dispatch at once
 * @param traceparent the W3C trace context of the submission, carried on every message of the job
 * @param timeouts each attempt's startToClose and stall timeouts, stored on the job ({@link
 *     JobTimeouts#NONE} for none)
 * @param orderingKey null for none; jobs of one key run one at a time, in the order they were
 *     submitted (ADR 29)
 * @param blocksItsKey with an ordering key: when the job ends DEAD it stays its key's head and the
 *     key's later jobs wait until an operator redrives or discards it (the type's {@code block}
 *     policy); false lets the next job go (the {@code skip} policy)
 * @param concurrencyKey null for none; at most {@code concurrencyLimit} jobs of one key run at once
 *     (ADR 30)
 * @param concurrencyLimit the key's limit, at least 1; read only with a concurrency key
 * @param batch null for none; with an ordering key, the job's type takes batches this large: as its
 *     key's head it carries the key's next waiting jobs in one attempt (ADR 31)
 * @param tenant the tenant the job belongs to, empty for none (ADR 40): only its tenant's callers
 *     see it, and its idempotency key is its tenant's
 * @param submitter who submitted it, as JSON {@code {"name": ..., "groups": [...]}}, null for
 *     nobody known (access control off): the dispatcher checks that grant again (ADR 40)
 */
public record NewJob(
    String type,
    String pool,
    String payloadJson,
    String idempotencyKey,
    Instant notBefore,
    int maxAttempts,
    String traceparent,
    JobTimeouts timeouts,
    String orderingKey,
    boolean blocksItsKey,
    String concurrencyKey,
    int concurrencyLimit,
    BatchLimits batch,
    String tenant,
    String submitter) {

  public NewJob {
    tenant = tenant == null ? "" : tenant;
    timeouts = timeouts == null ? JobTimeouts.NONE : timeouts;
    if (orderingKey != null && concurrencyKey != null) {
      throw new IllegalArgumentException(
          "a job takes an ordering key or a concurrency key, not both (an ordering key runs one"
              + " job at a time already)");
    }
    if (concurrencyKey != null && concurrencyLimit < 1) {
      throw new IllegalArgumentException(
          "concurrency key "
              + concurrencyKey
              + " needs a limit of at least 1, was "
              + concurrencyLimit);
    }
  }

  public NewJob(
      String type,
      String pool,
      String payloadJson,
      String idempotencyKey,
      Instant notBefore,
      int maxAttempts,
      String traceparent,
      JobTimeouts timeouts) {
    this(
        type,
        pool,
        payloadJson,
        idempotencyKey,
        notBefore,
        maxAttempts,
        traceparent,
        timeouts,
        null,
        false,
        null,
        0,
        null,
        null,
        null);
  }

  public NewJob(
      String type,
      String pool,
      String payloadJson,
      String idempotencyKey,
      Instant notBefore,
      int maxAttempts,
      String traceparent) {
    this(type, pool, payloadJson, idempotencyKey, notBefore, maxAttempts, traceparent, null);
  }

  public NewJob(
      String type,
      String pool,
      String payloadJson,
      String idempotencyKey,
      Instant notBefore,
      int maxAttempts) {
    this(type, pool, payloadJson, idempotencyKey, notBefore, maxAttempts, null);
  }

  /** This job with {@code orderingKey} (null for none), skipped when it ends DEAD. */
  public NewJob withOrderingKey(String orderingKey) {
    return withOrderingKey(orderingKey, false);
  }

  /**
   * This job with {@code orderingKey} (null for none); {@code blocksItsKey}: it holds its key's
   * later jobs back when it ends DEAD, until an operator redrives or discards it.
   */
  public NewJob withOrderingKey(String orderingKey, boolean blocksItsKey) {
    return new NewJob(
        type,
        pool,
        payloadJson,
        idempotencyKey,
        notBefore,
        maxAttempts,
        traceparent,
        timeouts,
        orderingKey,
        blocksItsKey,
        concurrencyKey,
        concurrencyLimit,
        batch,
        tenant,
        submitter);
  }

  /** This job with at most {@code limit} jobs of {@code key} running at once (ADR 30). */
  public NewJob withConcurrencyKey(String key, int limit) {
    return new NewJob(
        type,
        pool,
        payloadJson,
        idempotencyKey,
        notBefore,
        maxAttempts,
        traceparent,
        timeouts,
        orderingKey,
        blocksItsKey,
        key,
        limit,
        batch,
        tenant,
        submitter);
  }

  /** This job of a type that takes batches of {@code batch} (null for none, ADR 31). */
  public NewJob withBatch(BatchLimits batch) {
    return new NewJob(
        type,
        pool,
        payloadJson,
        idempotencyKey,
        notBefore,
        maxAttempts,
        traceparent,
        timeouts,
        orderingKey,
        blocksItsKey,
        concurrencyKey,
        concurrencyLimit,
        batch,
        tenant,
        submitter);
  }

  /** This job in {@code tenant} (empty for none, ADR 40). */
  public NewJob withTenant(String tenant) {
    return new NewJob(
        type,
        pool,
        payloadJson,
        idempotencyKey,
        notBefore,
        maxAttempts,
        traceparent,
        timeouts,
        orderingKey,
        blocksItsKey,
        concurrencyKey,
        concurrencyLimit,
        batch,
        tenant,
        submitter);
  }

  /** This job submitted by {@code submitter} (JSON {@code {"name", "groups"}}, ADR 40). */
  public NewJob withSubmitter(String submitter) {
    return new NewJob(
        type,
        pool,
        payloadJson,
        idempotencyKey,
        notBefore,
        maxAttempts,
        traceparent,
        timeouts,
        orderingKey,
        blocksItsKey,
        concurrencyKey,
        concurrencyLimit,
        batch,
        tenant,
        submitter);
  }
}
