package dev.shepherd.scheduler;

import com.fasterxml.jackson.annotation.JsonInclude;
import dev.shepherd.engine.access.Operation;
import dev.shepherd.engine.cancel.Cancellations;
import dev.shepherd.model.JobState;
import dev.shepherd.store.CancelResult;
import java.util.Arrays;
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
 * Cancels jobs: one by id ({@code POST /api/v1/jobs/{id}/cancel}: 202, also for a job already
 * CANCELLED; 409 for one that SUCCEEDED or is DEAD; 404 for none), or the newest of a type and
 * state ({@code POST /api/v1/jobs/cancel?type=&state=}, at most {@value
 * Cancellations#MAX_BY_FILTER} a call, saying whether more matched). Who cancels comes from {@code
 * X-Shepherd-Actor} or {@code by}; {@code reason} goes on the job's history.
 */
@RestController
@RequestMapping("/api/v1/jobs")
class CancelController {

  /**
   * A job cancelled, or found cancelled already.
   *
   * @param previousState the state the cancel ended; absent when the job was cancelled before
   */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  record Cancelled(String jobId, JobState state, JobState previousState) {}

  private final Cancellations cancellations;
  private final Access access;

  CancelController(Cancellations cancellations, Access access) {
    this.cancellations = cancellations;
    this.access = access;
  }

  @PostMapping("/{id}/cancel")
  ResponseEntity<?> cancel(
      @PathVariable String id,
      @RequestHeader(name = Actors.HEADER, required = false) String actor,
      @RequestParam(required = false) String by,
      @RequestParam(required = false) String reason) {
    if (!access.reaches(id, Operation.CANCEL)) {
      return Problems.notFound("no job with id '" + id + "'");
    }
    CancelResult result = cancellations.cancel(id, access.actor(actor, by), reason);
    if (result.outcome() == CancelResult.Outcome.MISSING) {
      return Problems.notFound("no job with id '" + id + "'");
    }
    if (result.outcome() == CancelResult.Outcome.FINISHED
        && result.previous() != JobState.CANCELLED) {
      ProblemDetail problem =
          ProblemDetail.forStatusAndDetail(
              HttpStatus.CONFLICT,
              "job '" + id + "' already ended " + result.previous() + "; it cannot be cancelled");
      problem.setTitle("Job already finished");
      problem.setProperty("state", result.previous().name());
      return Problems.response(problem);
    }
    JobState previous =
        result.outcome() == CancelResult.Outcome.CANCELLED ? result.previous() : null;
    return JsonResponses.accepted(null, new Cancelled(id, JobState.CANCELLED, previous));
  }

  @PostMapping("/cancel")
  ResponseEntity<?> cancelMatching(
      @RequestParam(required = false) String type,
      @RequestParam(required = false) String state,
      @RequestHeader(name = Actors.HEADER, required = false) String actor,
      @RequestParam(required = false) String by,
      @RequestParam(required = false) String reason) {
    if ((type == null || type.isBlank()) && (state == null || state.isBlank())) {
      return Problems.badRequest("type", "name a type or a state (or both) of the jobs to cancel");
    }
    access.requireAllTenants("cancel jobs by type and state");
    if (type == null || type.isBlank()) {
      access.requireAdmin("cancel jobs of every type");
    } else {
      access.require(Operation.CANCEL, type);
    }
    JobState jobState = null;
    if (state != null && !state.isBlank()) {
      try {
        jobState = JobState.valueOf(state);
      } catch (IllegalArgumentException e) {
        return Problems.badRequest("state", "must be one of " + Arrays.toString(JobState.values()));
      }
      if (jobState.isTerminal()) {
        return Problems.badRequest("state", jobState + " is terminal: nothing to cancel");
      }
    }
    var batch =
        cancellations.cancelMatching(
            type == null || type.isBlank() ? null : type,
            jobState,
            access.actor(actor, by),
            reason);
    return JsonResponses.ok(batch);
  }
}
