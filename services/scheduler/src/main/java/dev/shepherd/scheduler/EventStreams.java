package dev.shepherd.scheduler;

import java.io.IOException;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.springframework.boot.web.server.context.WebServerGracefulShutdownLifecycle;
import org.springframework.context.SmartLifecycle;
import org.springframework.stereotype.Component;
import org.springframework.web.servlet.mvc.method.annotation.SseEmitter;

/**
 * Every open server-sent event stream (the console's overview, a job's events), ended when the
 * scheduler stops. Spring Boot's graceful shutdown waits for open async requests, and a stream ends
 * by itself only at its timeout or when a write fails, so one open console tab held a stopping
 * scheduler until its next tick failed or, while the tab stayed, for the whole shutdown phase (30 s
 * by default, then Kubernetes kills the pod). This stops one phase before the web server's graceful
 * shutdown and ends each stream with a comment {@code :scheduler stopping}; the clients open
 * another, elsewhere (the browser's EventSource by itself, the Java client's await since no {@code
 * finished} came).
 */
@Component
class EventStreams implements SmartLifecycle {

  private static final String STOPPING = "scheduler stopping";

  private final Set<SseEmitter> open = ConcurrentHashMap.newKeySet();

  /** Set by {@link #stop()} only: a stream opened before {@link #start()} ran stays open. */
  private volatile boolean stopping;

  /** A stream that ends after {@code timeout}, or at once when the scheduler stops. */
  SseEmitter open(Duration timeout) {
    SseEmitter stream = new SseEmitter(timeout.toMillis());
    open.add(stream);
    stream.onCompletion(() -> open.remove(stream));
    stream.onTimeout(() -> open.remove(stream));
    stream.onError(e -> open.remove(stream));
    if (stopping) {
      // a request that came in after stop() went through the set, before the web server's
      // graceful shutdown refused new ones
      end(stream);
    }
    return stream;
  }

  /** Ends {@code stream} unless it has ended already; whoever removes it from the set ends it. */
  private void end(SseEmitter stream) {
    if (!open.remove(stream)) {
      return;
    }
    try {
      stream.send(SseEmitter.event().comment(STOPPING));
      stream.complete();
    } catch (IOException | IllegalStateException gone) {
      // the client went away meanwhile: nothing to tell
      stream.completeWithError(gone);
    }
  }

  @Override
  public void start() {
    stopping = false;
  }

  @Override
  public void stop() {
    stopping = true;
    open.forEach(this::end);
  }

  @Override
  public boolean isRunning() {
    return !stopping;
  }

  /** Stops before the web server's graceful shutdown (stopping goes from high phases to low). */
  @Override
  public int getPhase() {
    return WebServerGracefulShutdownLifecycle.SMART_LIFECYCLE_PHASE + 1;
  }
}
