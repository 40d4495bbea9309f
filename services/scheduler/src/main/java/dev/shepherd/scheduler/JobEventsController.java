package dev.shepherd.scheduler;

import dev.shepherd.engine.await.JobWaiters;
import dev.shepherd.model.Json;
import java.io.IOException;
import java.time.Duration;
import org.springframework.http.MediaType;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.servlet.mvc.method.annotation.SseEmitter;

/**
 * {@code GET /api/v1/jobs/{id}/events}: a server-sent event stream that pushes the job's final view
 * (event {@code finished}, data the job view as JSON) when it ends, at once when it has ended
 * already, and then closes; {@code missing} when there is no such job. A stream with no end within
 * a minute closes without an event, and the client opens another; so does one open when the
 * scheduler stops, after a comment {@code :scheduler stopping} ({@link EventStreams}). The Java
 * client's {@code await} uses it instead of polling: one request per job, whatever the job takes
 * (issue 18, item 4).
 */
@RestController
@RequestMapping("/api/v1")
class JobEventsController {

  /** How long one stream waits before it closes and the client opens another. */
  static final Duration STREAM = Duration.ofMinutes(1);

  private final JobWaiters waiters;
  private final Access access;
  private final EventStreams streams;

  JobEventsController(JobWaiters waiters, Access access, EventStreams streams) {
    this.waiters = waiters;
    this.access = access;
    this.streams = streams;
  }

  @GetMapping(path = "/jobs/{id}/events", produces = MediaType.TEXT_EVENT_STREAM_VALUE)
  SseEmitter events(@PathVariable String id) throws IOException {
    SseEmitter stream = streams.open(STREAM);
    try {
      return follow(id, stream);
    } catch (IllegalStateException ended) {
      if (streams.isRunning()) {
        throw ended;
      }
      // the scheduler began to stop and ended the stream with ':scheduler stopping' (EventStreams)
      // before this request's first send: that end is the answer, and the client asks again
      // elsewhere
      return stream;
    }
  }

  /** Tells {@code stream} when job {@code id} finishes, or that it is missing. */
  private SseEmitter follow(String id, SseEmitter stream) throws IOException {
    if (!access.reaches(id, dev.shepherd.engine.access.Operation.READ)) {
      // another tenant's job is not there for this caller (ADR 40)
      stream.send(SseEmitter.event().comment("waiting for " + id));
      stream.send(SseEmitter.event().name("missing").data(id));
      stream.complete();
      return stream;
    }
    boolean admin = access.policy().isAdmin(access.caller());
    // a comment first, so the response's headers go out now, not with the end
    stream.send(SseEmitter.event().comment("waiting for " + id));
    var waiter =
        waiters.await(
            id,
            view -> {
              try {
                stream.send(
                    SseEmitter.event()
                        .name("finished")
                        .data(
                            Json.mapper()
                                .writeValueAsString(admin ? view : Access.withoutTokens(view)),
                            MediaType.APPLICATION_JSON));
                stream.complete();
              } catch (IOException | IllegalStateException gone) {
                // the client went away meanwhile: nothing to tell
                stream.completeWithError(gone);
              }
            });
    if (waiter.isEmpty()) {
      stream.send(SseEmitter.event().name("missing").data(id));
      stream.complete();
      return stream;
    }
    stream.onTimeout(waiter.get()::cancel);
    stream.onError(e -> waiter.get().cancel());
    stream.onCompletion(waiter.get()::cancel);
    return stream;
  }
}
