package dev.shepherd.worker;

import dev.shepherd.model.JobTimeouts;
import tools.jackson.databind.JsonNode;

/**
 * Runs one job type. The worker runtime binds the job's JSON payload to {@link #payloadType()} (an
 * absent payload binds as {@code {}}), claims the attempt, and calls {@link #handle} on one of its
 * consumer threads.
 *
 * <p>How the attempt ends decides what happens to the job:
 *
 * <ul>
 *   <li>{@code handle} returns: SUCCEEDED.
 *   <li>{@link PermanentJobException}: FAILED, not retryable; the job is dead at once.
 *   <li>{@link RetryableJobException} or any other exception: FAILED, retryable; the job runs again
 *       after a backoff while attempts remain.
 *   <li>A payload that does not bind to {@code payloadType()}: FAILED, not retryable, without
 *       calling {@code handle}.
 * </ul>
 *
 * <p>Execution is at least once: an attempt that loses its lease is interrupted and a new attempt
 * runs elsewhere. Make side effects idempotent, or fence them with {@link
 * JobContext#fencingToken()}.
 *
 * <p>A job can be cancelled while it runs. {@link JobContext#isCancelled()} then turns true at
 * once, and the thread is interrupted only if {@code handle} has not returned within the worker's
 * cancel grace (10 s by default): check the flag between steps and return. Whatever {@code handle}
 * returns or throws after a cancel is not reported; the job stays CANCELLED.
 *
 * <pre>{@code
 * @Component
 * class ResizeHandler implements JobHandler<ResizeRequest> {
 *   public String type() { return "image.resize"; }
 *   public Class<ResizeRequest> payloadType() { return ResizeRequest.class; }
 *   public void handle(JobContext<ResizeRequest> job) throws Exception {
 *     byte[] image = job.phase("download", () -> fetch(job.payload().url()));
 *     job.phase("resize", () -> save(resize(image), job.fencingToken()));
 *   }
 * }
 * }</pre>
 *
 * @param <P> the payload type; {@code JsonNode} takes the payload as it is
 */
public interface JobHandler<P> {

  /** The job type (routing key) this handler runs, such as {@code site.generate}. */
  String type();

  /** The class the payload is bound to; unknown fields are refused. */
  Class<P> payloadType();

  /**
   * Runs one attempt. Stop promptly when interrupted or when {@link JobContext#isCancelled()} turns
   * true: the job was cancelled, or the attempt abandoned or its lease lost, and nothing it reports
   * is accepted any more.
   */
  void handle(JobContext<P> context) throws Exception;

  /**
   * The JSON Schema of the payload, which the worker announces with the type (ADR 35) and the
   * scheduler validates submissions against: by default {@linkplain PayloadSchemas#of generated}
   * from {@link #payloadType()}; return your own to say more (lengths, patterns, ranges), or null
   * to announce none. The scheduler's configuration and the schemas Shepherd ships win over it.
   */
  default JsonNode payloadSchema() {
    return PayloadSchemas.of(payloadType());
  }

  /**
   * The attempts a job of this type gets when its submission names none; null for the scheduler's
   * {@code shepherd.scheduler.max-attempts.<type>} or default.
   */
  default Integer maxAttempts() {
    return null;
  }

  /**
   * The type's attempt timeouts (ADR 18) when its submission names none; null for the scheduler's
   * {@code shepherd.scheduler.timeouts.<type>}, or none.
   */
  default JobTimeouts timeouts() {
    return null;
  }
}
