/**
 * The worker SDK: what a handler author embeds. Implement {@link dev.shepherd.worker.JobHandler}
 * for a job type; {@link dev.shepherd.worker.WorkerRuntime} takes work from the pool's queue,
 * claims each attempt (lease and fencing token) before acking its delivery, renews the lease every
 * third of its TTL, runs the handler with a {@link dev.shepherd.worker.JobContext} and reports
 * every phase, progress and the outcome to the status exchange. A handler says how it failed with
 * {@link dev.shepherd.worker.RetryableJobException} or {@link
 * dev.shepherd.worker.PermanentJobException}. A job type that runs on a backend (an HTTP service)
 * instead is a {@link dev.shepherd.worker.DistributedHandler}, which takes the backend's reports
 * from {@link dev.shepherd.worker.RemoteReports} (ADR 45). Everything else in this package is
 * internal.
 *
 * <pre>{@code
 * class ResizeHandler implements JobHandler<ResizeRequest> {
 *   public String type() { return "image.resize"; }
 *   public Class<ResizeRequest> payloadType() { return ResizeRequest.class; }
 *   public void handle(JobContext<ResizeRequest> job) throws Exception {
 *     byte[] image = job.phase("download", () -> fetch(job.payload().url()));
 *     job.phase("resize", () -> save(resize(image), job.fencingToken()));
 *   }
 * }
 * }</pre>
 */
package dev.shepherd.worker;
