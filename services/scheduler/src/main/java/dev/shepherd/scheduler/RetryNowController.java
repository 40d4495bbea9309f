package dev.shepherd.scheduler;

import dev.shepherd.engine.WorkLoop;
import dev.shepherd.engine.access.Operation;
import dev.shepherd.engine.dispatch.Dispatcher;
import dev.shepherd.model.JobState;
import dev.shepherd.store.Retries;
import dev.shepherd.store.Retries.RetryNow;
import java.time.Instant;
import org.springframework.http.HttpStatus;
import org.springframework.http.ProblemDetail;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestHeader;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

/**
 * Retry now ({@code POST /api/v1/jobs/{id}/retry-now}): a job waiting out its backoff after a
 * retryable failure (RETRY_WAIT) is published at once. 202 with the job's state; 409 for a job in
 * any other state, or a released last attempt still waiting for its outcome (ADR 14); 404 for none.
 * It takes the grant that redrives the job's type (or admin, ADR 40); who asked comes from {@code
 * X-Shepherd-Actor} or {@code by} and is kept on the job.
 */
@RestController
@RequestMapping("/api/v1/jobs")
class RetryNowController {

  private static final org.slf4j.Logger log =
      org.slf4j.LoggerFactory.getLogger(RetryNowController.class);

  /**
   * A job made due now.
   *
   * @param dueBefore when its next attempt was due; null when it waited for a concurrency slot or
   *     its ordering key's head, which still decide
   */
  record RetryingNow(String jobId, JobState state, Instant dueBefore) {}

  private final Retries retries;
  private final Dispatcher dispatcher;
  private final WorkLoop dispatchLoop;
  private final Access access;

  RetryNowController(Retries retries, Dispatcher dispatcher, WorkLoop dispatchLoop, Access access) {
    this.retries = retries;
    this.dispatcher = dispatcher;
    this.dispatchLoop = dispatchLoop;
    this.access = access;
  }

  @PostMapping("/{id}/retry-now")
  ResponseEntity<?> retryNow(
      @PathVariable String id,
      @RequestHeader(name = Actors.HEADER, required = false) String actor,
      @RequestParam(required = false) String by) {
    if (!access.reaches(id, Operation.REDRIVE)) {
      return Problems.notFound("no job with id '" + id + "'");
    }
    String who = access.actor(actor, by);
    return switch (retries.retryNow(id, who)) {
      case RetryNow.Missing m -> Problems.notFound("no job with id '" + id + "'");
      case RetryNow.NotWaiting w ->
          conflict("job '" + id + "' is " + w.state() + ", not waiting for a retry", w.state());
      case RetryNow.AwaitsOutcome a ->
          conflict(
              "job '"
                  + id
                  + "' had its last attempt released and waits for that attempt's outcome;"
                  + " it is retried or ends DEAD when its grace is over",
              JobState.RETRY_WAIT);
      case RetryNow.DueNow d -> {
        log.info("job {} made due now by {}", id, who);
        dispatcher.markDirty(id);
        dispatchLoop.wakeUp();
        yield JsonResponses.accepted(
            JsonResponses.jobLocation(id), new RetryingNow(id, JobState.RETRY_WAIT, d.dueBefore()));
      }
    };
  }

  private static ResponseEntity<Object> conflict(String detail, JobState state) {
    ProblemDetail problem = ProblemDetail.forStatusAndDetail(HttpStatus.CONFLICT, detail);
    problem.setTitle("Not waiting for a retry");
    problem.setProperty("state", state.name());
    return Problems.response(problem);
  }
}
