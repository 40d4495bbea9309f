package dev.shepherd.worker;

/**
 * Runs one job type. Throw {@link RetryableJobException} for a transient failure (the job runs
 * again, with backoff, while attempts remain), {@link PermanentJobException} when retrying cannot
 * help (the job is dead at once). Any other exception counts as retryable.
 *
 * <pre>{@code
 * class Noop implements JobHandler<JsonNode> {
 *   public String type() { return "demo.noop"; }
 *   public Class<JsonNode> payloadType() { return JsonNode.class; }
 *   public void handle(JobContext<JsonNode> job) {}
 * }
 * }</pre>
 *
 * @param <P> the payload, bound from the job's JSON payload
 */
public interface JobHandler<P> {

  /** The job type (routing key) this handler runs, such as {@code site.generate}. */
  String type();

  /** The class the payload is bound to; {@code JsonNode} takes it as it is. */
  Class<P> payloadType();

  void handle(JobContext<P> job) throws Exception;
}
