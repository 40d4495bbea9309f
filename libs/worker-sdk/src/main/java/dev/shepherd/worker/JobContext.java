package dev.shepherd.worker;

import java.util.concurrent.Callable;

/**
 * What a handler knows about the attempt it runs, and how it reports. The fencing token grows with
 * every claim of the job: pass it to downstream systems so they can refuse writes from an attempt
 * that lost its lease.
 *
 * <pre>{@code
 * String page = job.phase("dashboard_render", () -> render(job.payload()));
 * job.progress(66, "rendered");
 * }</pre>
 *
 * @param <P> the payload type
 */
public interface JobContext<P> {

  String jobId();

  /** 1 for the first attempt, 2 for the first retry, and so on. */
  int attempt();

  long fencingToken();

  String workerId();

  P payload();

  /**
   * Runs {@code body} as a named phase: PHASE_STARTED before, PHASE_ENDED after (also on failure).
   */
  <T> T phase(String name, Callable<T> body) throws Exception;

  /** Runs {@code body} as a named phase. */
  void phase(String name, PhaseBody body) throws Exception;

  /** Reports progress (0..100) with a short message. */
  void progress(int percent, String message);

  /**
   * True once this attempt lost its lease (or the worker shuts down past its grace period): stop
   * work as soon as possible; nothing this attempt reports any more is accepted.
   */
  boolean isCancelled();

  /** A phase body that returns nothing. */
  @FunctionalInterface
  interface PhaseBody {
    void run() throws Exception;
  }
}
