package dev.shepherd.worker;

import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.Callable;
import tools.jackson.databind.JsonNode;

/**
 * What a handler knows about the attempt it runs, and how it reports. Every report carries the
 * attempt's fencing token and the next sequence number of the attempt.
 *
 * <p>The fencing token grows with every claim of the job: pass it to downstream systems so they can
 * refuse writes from an attempt that lost its lease ({@code UPDATE ... WHERE token < ?}).
 *
 * <pre>{@code
 * String page = job.phase("dashboard_render", () -> render(job.payload()));
 * job.progress(66, "dashboard rendered");
 * job.phase("publish", () -> upload(page, job.fencingToken()));
 * }</pre>
 *
 * @param <P> the payload type
 */
public interface JobContext<P> {

  /** The most JSON a heartbeat's details may take, in bytes (16 KiB), as the contract says. */
  int MAX_HEARTBEAT_DETAILS_BYTES = 16 * 1024;

  /** The job's id. */
  String jobId();

  /** 1 for the first attempt, 2 for the first retry, and so on. */
  int attempt();

  /** The token of this attempt's claim; larger than that of every earlier claim of the job. */
  long fencingToken();

  /** The id of the worker running this attempt. */
  String workerId();

  /** The job's payload, bound to the handler's {@link JobHandler#payloadType()}. */
  P payload();

  /**
   * Runs {@code body} as a named phase: PHASE_STARTED before it, PHASE_ENDED after it, also when it
   * throws (the exception then propagates unchanged).
   *
   * @return what {@code body} returned
   */
  <T> T phase(String name, Callable<T> body) throws Exception;

  /** Runs {@code body} as a named phase, like {@link #phase(String, Callable)}. */
  void phase(String name, PhaseBody body) throws Exception;

  /**
   * Reports progress: {@code percent} (clamped to 0..100) and a short message. Progress is
   * informative: if it cannot be published, the job goes on and the failure is logged.
   */
  void progress(int percent, String message);

  /**
   * Says the attempt is alive and how far it got, without a progress figure: a HEARTBEAT status
   * event, numbered and published like progress (and, like it, not published once the attempt is
   * cancelled or timed out). It restarts the attempt's {@code stall} timeout, on the worker at once
   * and on the server when applied. {@code details}, serialised as JSON, stay on the job: the next
   * attempt, if there is one, reads them from {@link #lastHeartbeatDetails()} and resumes where
   * this one stopped. {@code null} sends no details (the job keeps those of an earlier heartbeat).
   *
   * <pre>{@code
   * int first = job.lastHeartbeatDetails().map(d -> d.get("lastPage").asInt() + 1).orElse(0);
   * for (int n = first; n < pages.size(); n++) {
   *   upload(pages.get(n), job.fencingToken());
   *   job.heartbeat(Map.of("lastPage", n)); // a retry starts after page n
   * }
   * }</pre>
   *
   * <p>A context that does not report (a test's) ignores it.
   *
   * @throws IllegalArgumentException when the details' JSON is over {@link
   *     #MAX_HEARTBEAT_DETAILS_BYTES} (16 KiB): send where to resume from, not the work itself
   */
  default void heartbeat(Object details) {}

  /** A heartbeat without details: {@link #heartbeat(Object) heartbeat(null)}. */
  default void heartbeat() {
    heartbeat(null);
  }

  /**
   * The details of the last heartbeat an earlier attempt of this job sent ({@link
   * #heartbeat(Object)}), for a retry to resume from; empty on a first attempt, or when no earlier
   * attempt sent details (or its heartbeats were never applied). This attempt's own heartbeats do
   * not change it.
   */
  default Optional<JsonNode> lastHeartbeatDetails() {
    return Optional.empty();
  }

  /**
   * True once this attempt should stop: its job was cancelled, recovery abandoned it past a
   * timeout, it lost its lease or could not renew it in time, or the worker stopped past its grace
   * period ({@link #cancellationReason()} says which). Stop work as soon as possible; nothing this
   * attempt reports afterwards is published, its outcome included.
   *
   * <p>It is true too once the worker found the attempt past one of its timeouts ({@code
   * startToClose}, {@code stall}, a phase's limit): the thread is interrupted at once, and the
   * attempt's outcome is then FAILED {@code timeout:<name>} (retryable), whatever the handler
   * throws or returns.
   *
   * <p>When the job was cancelled the flag turns true at once and the handler's thread is
   * interrupted only if the handler still runs after the worker's cancel grace ({@code
   * shepherd.worker.cancel-grace}, 10 s by default), so a handler that checks the flag between
   * steps can clean up without an interrupt breaking its I/O. In every other case the thread is
   * interrupted at the same moment the flag turns true.
   *
   * <pre>{@code
   * for (Page page : pages) {
   *   if (job.isCancelled()) {
   *     deletePartialUpload(job.fencingToken());
   *     return; // what it returns or throws now is not reported
   *   }
   *   upload(page, job.fencingToken());
   * }
   * }</pre>
   */
  boolean isCancelled();

  /**
   * When this attempt must be over: its claim plus the job's {@code startToClose} timeout (ADR 18);
   * empty when the job has none. Pass it on to what the handler calls, so downstream work stops in
   * time too; the distributors send it with each attempt.
   *
   * <pre>{@code
   * job.deadline().ifPresent(d -> request.header("Request-Deadline", d.toString()));
   * }</pre>
   */
  default Optional<Instant> deadline() {
    return Optional.empty();
  }

  /**
   * Why this attempt was cancelled: {@code cancelled by <who>: <reason>} when its job was cancelled
   * ({@code cancelled} when the worker learnt it from its lease renewal), {@code abandoned by
   * timeout:<which>: ...} when recovery ended it past a timeout, its lease was lost to another
   * attempt, it could not be renewed in time (Redis unreachable: the job may already run
   * elsewhere), or the worker stopped past its grace period; {@code timed out: timeout:<which>
   * (...)} when the worker found it past a timeout. Empty while the attempt is not cancelled.
   *
   * <pre>{@code
   * job.cancellationReason().ifPresent(why -> log.info("stopping early: {}", why));
   * }</pre>
   */
  default Optional<String> cancellationReason() {
    return Optional.empty();
  }

  /**
   * A phase body that returns nothing.
   *
   * <pre>{@code
   * job.phase("bug_list_download", () -> download(job.payload().site()));
   * }</pre>
   */
  @FunctionalInterface
  interface PhaseBody {

    /** Does the phase's work. */
    void run() throws Exception;
  }
}
