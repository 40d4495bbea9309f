package dev.shepherd.model;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.time.Instant;
import tools.jackson.databind.JsonNode;

/**
 * What a producer sends to start a job, over REST, AMQP or the Java client.
 *
 * @param type the job type, which is also the routing key (for example {@code site.generate})
 * @param payload the handler's input; validated against the job type's payload schema
 * @param idempotencyKey optional; a second submission with the same key returns the first job
 * @param notBefore optional; the job is not dispatched before this instant
 * @param maxAttempts optional; overrides the job type's default number of attempts
 * @param timeouts optional; each attempt's startToClose and stall timeouts, each overriding the job
 *     type's (ADR 18)
 * @param orderingKey optional; jobs with the same key run one at a time, in the order they were
 *     submitted (ADR 29)
 * @param concurrencyKey optional; at most the key's limit of jobs with the same key run at once
 *     (ADR 30); not together with an ordering key
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record JobSubmission(
    String type,
    JsonNode payload,
    String idempotencyKey,
    Instant notBefore,
    Integer maxAttempts,
    JobTimeouts timeouts,
    String orderingKey,
    String concurrencyKey) {

  public static JobSubmission of(String type, JsonNode payload) {
    return new JobSubmission(type, payload, null, null, null, null, null, null);
  }

  public JobSubmission withIdempotencyKey(String key) {
    return new JobSubmission(
        type, payload, key, notBefore, maxAttempts, timeouts, orderingKey, concurrencyKey);
  }

  public JobSubmission withNotBefore(Instant instant) {
    return new JobSubmission(
        type, payload, idempotencyKey, instant, maxAttempts, timeouts, orderingKey, concurrencyKey);
  }

  public JobSubmission withMaxAttempts(Integer attempts) {
    return new JobSubmission(
        type, payload, idempotencyKey, notBefore, attempts, timeouts, orderingKey, concurrencyKey);
  }

  public JobSubmission withTimeouts(JobTimeouts attemptTimeouts) {
    return new JobSubmission(
        type,
        payload,
        idempotencyKey,
        notBefore,
        maxAttempts,
        attemptTimeouts,
        orderingKey,
        concurrencyKey);
  }

  /** Jobs with the same {@code key} run one at a time, in the order they were submitted. */
  public JobSubmission withOrderingKey(String key) {
    return new JobSubmission(
        type, payload, idempotencyKey, notBefore, maxAttempts, timeouts, key, concurrencyKey);
  }

  /** At most the key's limit of jobs with the same {@code key} run at once. */
  public JobSubmission withConcurrencyKey(String key) {
    return new JobSubmission(
        type, payload, idempotencyKey, notBefore, maxAttempts, timeouts, orderingKey, key);
  }
}
