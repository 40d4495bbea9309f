package dev.shepherd.scheduler;

import dev.shepherd.engine.access.AccessPolicy;
import dev.shepherd.engine.access.Caller;
import dev.shepherd.engine.access.Operation;
import dev.shepherd.engine.intake.IntakeResult;
import dev.shepherd.engine.intake.SubmissionIntake;
import dev.shepherd.model.JobState;
import dev.shepherd.model.JobSummary;
import dev.shepherd.model.JobView;
import dev.shepherd.model.TraceParent;
import dev.shepherd.store.JobQueries;
import java.net.URI;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.ProblemDetail;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestHeader;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

/** The jobs API: submit, read one job, list jobs. */
@RestController
@RequestMapping("/api/v1")
class JobsController {

  private final SubmissionIntake intake;
  private final JobQueries queries;
  private final Access access;

  JobsController(SubmissionIntake intake, JobQueries queries, Access access) {
    this.intake = intake;
    this.queries = queries;
    this.access = access;
  }

  @PostMapping(path = "/jobs", consumes = MediaType.APPLICATION_JSON_VALUE)
  ResponseEntity<?> submit(
      @RequestBody(required = false) byte[] body,
      @RequestHeader(name = TraceParent.HEADER, required = false) String traceparent) {
    access.countSubmission();
    Caller caller = access.caller();
    AccessPolicy policy = access.policy();
    var submitter = SubmissionIntake.Submitter.of(caller, policy);
    return switch (intake.submit(body == null ? new byte[0] : body, traceparent, submitter)) {
      case IntakeResult.Accepted a ->
          JsonResponses.accepted(JsonResponses.jobLocation(a.receipt().jobId()), a.receipt());
      case IntakeResult.Duplicate d ->
          JsonResponses.with(
              HttpStatus.OK, JsonResponses.jobLocation(d.receipt().jobId()), d.receipt());
      case IntakeResult.Rejected r -> {
        ProblemDetail problem =
            ProblemDetail.forStatusAndDetail(
                HttpStatus.valueOf(r.problem().httpStatus()), r.detail());
        problem.setTitle(r.problem().title());
        problem.setType(URI.create(r.problem().typeUri()));
        problem.setProperty(
            "errors",
            r.violations().stream()
                .map(v -> new Problems.FieldError(v.field(), v.message()))
                .toList());
        yield Problems.response(problem);
      }
    };
  }

  @GetMapping("/jobs/{id}")
  ResponseEntity<?> get(@PathVariable String id) {
    return readable(id)
        .<ResponseEntity<?>>map(JsonResponses::ok)
        .orElseGet(() -> Problems.notFound("no job with id '" + id + "'"));
  }

  /** The job as the caller may read it (the API's and the console's one way to read a job). */
  Optional<JobView> readable(String id) {
    return access.readable(queries.find(id));
  }

  /**
   * The caller's job of this idempotency key (and ordering key, when the key was scoped to one).
   */
  Optional<JobView> readableByIdempotencyKey(String key, String orderingKey) {
    return access.readable(
        queries
            .findIdByIdempotencyKey(key, orderingKey, access.caller().tenantOfNewJobs())
            .flatMap(queries::find));
  }

  @GetMapping("/jobs/by-key/{key}")
  ResponseEntity<?> byIdempotencyKey(
      @PathVariable String key, @RequestParam(required = false) String orderingKey) {
    return readableByIdempotencyKey(key, orderingKey)
        .<ResponseEntity<?>>map(JsonResponses::ok)
        .orElseGet(() -> Problems.notFound("no job with idempotency key '" + key + "'"));
  }

  @GetMapping("/jobs")
  ResponseEntity<?> list(
      @RequestParam(required = false) String state,
      @RequestParam(required = false) String type,
      @RequestParam(defaultValue = "100") int limit) {
    if (limit < 1 || limit > Problems.MAX_LIST) {
      return Problems.limitOutOfRange();
    }
    access.requireSome(Operation.READ);
    JobState parsed = null;
    if (state != null && !state.isBlank()) {
      try {
        parsed = JobState.valueOf(state.trim().toUpperCase());
      } catch (IllegalArgumentException e) {
        return Problems.badRequest("state", "must be one of " + Arrays.toString(JobState.values()));
      }
    }
    return JsonResponses.ok(listed(parsed, type, limit));
  }

  /**
   * The newest jobs the caller may read, optionally of one state and type (the API's and the
   * console's one way to list jobs): another tenant's jobs and types without a read grant are left
   * out.
   */
  List<JobSummary> listed(JobState state, String type, int limit) {
    access.requireSome(Operation.READ);
    return queries.list(
        state,
        type == null || type.isBlank() ? null : type,
        limit,
        access.caller() == Caller.UNCHECKED ? null : access::lists);
  }
}
