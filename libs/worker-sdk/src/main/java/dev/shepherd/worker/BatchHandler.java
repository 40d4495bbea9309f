package dev.shepherd.worker;

/**
 * Runs a job type that takes batches (ADR 31; {@code shepherd.scheduler.batch-size.<type>} on the
 * scheduler): the claimed job of an ordering key and up to that many of the key's next waiting
 * jobs, in one attempt, in order. Returning succeeds every job of the batch; throwing fails every
 * one, as {@link JobHandler} says (a retry carries the same jobs under the same transaction id).
 * The {@link JobContext} is the claimed job's: its phases, progress and heartbeats stand for the
 * batch.
 *
 * <pre>{@code
 * @Component
 * class WebhookBatchHandler implements BatchHandler<Event> {
 *   public String type() { return "webhook.deliver"; }
 *   public Class<Event> payloadType() { return Event.class; }
 *   public void handle(Batch<Event> batch, JobContext<Event> job) throws Exception {
 *     endpoint.put("/transactions/" + batch.transactionId(), batch.payloads());
 *   }
 * }
 * }</pre>
 *
 * @param <P> the payload type of every job of the batch
 */
public interface BatchHandler<P> extends JobHandler<P> {

  /** Runs one attempt of the whole batch. */
  void handle(Batch<P> batch, JobContext<P> context) throws Exception;

  /** A job alone, as a batch of one: the runtime calls {@link #handle(Batch, JobContext)}. */
  @Override
  default void handle(JobContext<P> context) throws Exception {
    handle(
        new Batch<>(0, java.util.List.of(new Batch.Job<>(context.jobId(), context.payload()))),
        context);
  }
}
