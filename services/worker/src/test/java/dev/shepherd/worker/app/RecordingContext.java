package dev.shepherd.worker.app;

import dev.shepherd.worker.JobContext;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

/** A job context that records what a handler reports, for unit tests of the demo handlers. */
final class RecordingContext<P> implements JobContext<P> {

  final List<String> reports = new ArrayList<>();

  /** Set to make {@link #isCancelled()} true, e.g. from inside a phase. */
  volatile boolean cancelled;

  /** Set to have the first progress report cancel the job (as if a cancel came during it). */
  boolean cancelOnProgress;

  private final P payload;
  private final int attempt;

  RecordingContext(P payload, int attempt) {
    this.payload = payload;
    this.attempt = attempt;
  }

  @Override
  public String jobId() {
    return "00-test";
  }

  @Override
  public int attempt() {
    return attempt;
  }

  @Override
  public long fencingToken() {
    return 1;
  }

  @Override
  public String workerId() {
    return "test-worker";
  }

  @Override
  public P payload() {
    return payload;
  }

  @Override
  public <T> T phase(String name, Callable<T> body) throws Exception {
    reports.add("start " + name);
    try {
      return body.call();
    } finally {
      reports.add("end " + name);
    }
  }

  @Override
  public void phase(String name, PhaseBody body) throws Exception {
    phase(
        name,
        () -> {
          body.run();
          return null;
        });
  }

  @Override
  public void progress(int percent, String message) {
    reports.add(percent + "% " + message);
    cancelled |= cancelOnProgress;
  }

  @Override
  public boolean isCancelled() {
    return cancelled;
  }
}
