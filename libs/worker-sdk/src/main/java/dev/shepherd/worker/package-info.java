/**
 * The worker SDK. A handler author implements {@link dev.shepherd.worker.JobHandler}; the {@link
 * dev.shepherd.worker.WorkerRuntime} takes work from the pool's queue, claims each attempt (lease
 * and fencing token) before acking it, renews the lease every third of its TTL, runs the handler
 * and reports every phase, progress and the outcome to the status exchange.
 *
 * <pre>{@code
 * class Resize implements JobHandler<ResizeRequest> {
 *   public String type() { return "image.resize"; }
 *   public Class<ResizeRequest> payloadType() { return ResizeRequest.class; }
 *   public void handle(JobContext<ResizeRequest> job) throws Exception {
 *     byte[] image = job.phase("download", () -> fetch(job.payload().url()));
 *     job.phase("resize", () -> store(resize(image), job.fencingToken()));
 *   }
 * }
 * }</pre>
 */
package dev.shepherd.worker;
