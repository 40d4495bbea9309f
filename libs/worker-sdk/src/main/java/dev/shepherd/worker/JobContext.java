package dev.shepherd.worker;

import java.util.concurrent.Callable;

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
   * True once this attempt lost its lease (or the worker stopped past its grace period): stop work
   * as soon as possible. The handler's thread is interrupted at the same moment, and nothing this
   * attempt reports afterwards is published.
   */
  boolean isCancelled();

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
