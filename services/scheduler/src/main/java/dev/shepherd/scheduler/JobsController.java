package dev.shepherd.scheduler;

import dev.shepherd.engine.access.AccessPolicy;
import dev.shepherd.engine.access.Caller;
import dev.shepherd.engine.access.Operation;
import dev.shepherd.engine.intake.IntakeResult;
import dev.shepherd.engine.intake.SubmissionIntake;
import dev.shepherd.model.JobState;
import dev.shepherd.model.JobView;
import dev.shepherd.model.Json;
import dev.shepherd.model.TraceParent;
import dev.shepherd.store.JobQueries;
import java.net.URI;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Arrays;
import java.util.Optional;
import org.springframework.http.HttpHeaders;
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
import org.springframework.web.servlet.support.ServletUriComponentsBuilder;

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

  /**
   * A page of the jobs the caller may read, newest first, by a cursor over the store's time-ordered
   * indexes ({@link JobQueries#page}): the next page's link is in the {@code Link} header ({@code
   * rel="next"}), absent on the last page. {@code pool} is the pool stored on the job; {@code from}
   * and {@code to} bound its submission time (ISO-8601 instants).
   */
  @GetMapping("/jobs")
  ResponseEntity<?> list(
      @RequestParam(required = false) String state,
      @RequestParam(required = false) String type,
      @RequestParam(required = false) String pool,
      @RequestParam(required = false) String from,
      @RequestParam(required = false) String to,
      @RequestParam(required = false) String after,
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
    Instant fromAt;
    Instant toAt;
    try {
      fromAt = instant(from);
    } catch (DateTimeParseException e) {
      return Problems.badRequest("from", "must be an ISO-8601 instant, e.g. 2026-12-01T20:00:00Z");
    }
    try {
      toAt = instant(to);
    } catch (DateTimeParseException e) {
      return Problems.badRequest("to", "must be an ISO-8601 instant, e.g. 2026-12-01T21:00:00Z");
    }
    JobQueries.JobPage page;
    try {
      page = paged(new JobQueries.JobPageRequest(parsed, type, pool, fromAt, toAt, after, limit));
    } catch (IllegalArgumentException e) {
      return Problems.badRequest("after", "not a cursor this API gave: " + e.getMessage());
    }
    if (page.next() == null) {
      return JsonResponses.ok(page.rows());
    }
    URI next =
        ServletUriComponentsBuilder.fromCurrentRequest()
            .replaceQueryParam("after", page.next())
            .encode()
            .build()
            .toUri();
    return ResponseEntity.ok()
        .header(HttpHeaders.LINK, "<" + next + ">; rel=\"next\"")
        .contentType(MediaType.APPLICATION_JSON)
        .body(Json.mapper().writeValueAsString(page.rows()));
  }

  private static Instant instant(String text) {
    return text == null || text.isBlank() ? null : Instant.parse(text.trim());
  }

  /**
   * A page of the jobs the caller may read (the API's and the console's one way to page through
   * jobs): another tenant's jobs and types without a read grant are left out.
   */
  JobQueries.JobPage paged(JobQueries.JobPageRequest request) {
    access.requireSome(Operation.READ);
    return queries.page(request, access.caller() == Caller.UNCHECKED ? null : access::lists);
  }
}
