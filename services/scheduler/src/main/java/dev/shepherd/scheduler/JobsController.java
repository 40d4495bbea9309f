package dev.shepherd.scheduler;

import dev.shepherd.engine.intake.IntakeResult;
import dev.shepherd.engine.intake.SubmissionIntake;
import dev.shepherd.model.DeadJob;
import dev.shepherd.model.JobState;
import dev.shepherd.model.JobSummary;
import dev.shepherd.model.Json;
import dev.shepherd.model.TraceParent;
import dev.shepherd.store.DeadJobs;
import dev.shepherd.store.JobQueries;
import java.net.URI;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
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

/** The jobs API. Bodies are written with Shepherd's own mapper so they match the contracts. */
@RestController
@RequestMapping("/api/v1")
class JobsController {

  private static final int MAX_LIST = 1000;

  private final SubmissionIntake intake;
  private final JobQueries queries;
  private final DeadJobs deadJobs;

  JobsController(SubmissionIntake intake, JobQueries queries, DeadJobs deadJobs) {
    this.intake = intake;
    this.queries = queries;
    this.deadJobs = deadJobs;
  }

  @PostMapping(path = "/jobs", consumes = MediaType.APPLICATION_JSON_VALUE)
  ResponseEntity<?> submit(
      @RequestBody(required = false) byte[] body,
      @RequestHeader(name = TraceParent.HEADER, required = false) String traceparent) {
    return switch (intake.submit(body == null ? new byte[0] : body, traceparent)) {
      case IntakeResult.Accepted a ->
          ResponseEntity.accepted()
              .location(URI.create("/api/v1/jobs/" + a.receipt().jobId()))
              .contentType(MediaType.APPLICATION_JSON)
              .body(json(a.receipt()));
      case IntakeResult.Duplicate d ->
          ResponseEntity.ok()
              .location(URI.create("/api/v1/jobs/" + d.receipt().jobId()))
              .contentType(MediaType.APPLICATION_JSON)
              .body(json(d.receipt()));
      case IntakeResult.Rejected r -> {
        ProblemDetail problem =
            ProblemDetail.forStatusAndDetail(
                HttpStatus.valueOf(r.problem().httpStatus()), r.detail());
        problem.setTitle(r.problem().title());
        problem.setType(URI.create(r.problem().typeUri()));
        problem.setProperty(
            "errors",
            r.violations().stream()
                .map(v -> Map.of("field", v.field(), "message", v.message()))
                .toList());
        yield Problems.response(problem);
      }
    };
  }

  @GetMapping("/jobs/{id}")
  ResponseEntity<?> get(@PathVariable String id) {
    return queries
        .find(id)
        .<ResponseEntity<?>>map(job -> okJson(job))
        .orElseGet(() -> Problems.notFound("no job with id '" + id + "'"));
  }

  @GetMapping("/jobs/by-key/{key}")
  ResponseEntity<?> byIdempotencyKey(@PathVariable String key) {
    return queries
        .findIdByIdempotencyKey(key)
        .flatMap(queries::find)
        .<ResponseEntity<?>>map(job -> okJson(job))
        .orElseGet(() -> Problems.notFound("no job with idempotency key '" + key + "'"));
  }

  @GetMapping("/jobs")
  ResponseEntity<?> list(
      @RequestParam(required = false) String state,
      @RequestParam(required = false) String type,
      @RequestParam(defaultValue = "100") int limit) {
    if (limit < 1 || limit > MAX_LIST) {
      return Problems.badRequest("limit", "must be between 1 and " + MAX_LIST);
    }
    JobState parsed = null;
    if (state != null && !state.isBlank()) {
      try {
        parsed = JobState.valueOf(state.trim().toUpperCase());
      } catch (IllegalArgumentException e) {
        return Problems.badRequest("state", "must be one of " + Arrays.toString(JobState.values()));
      }
    }
    List<JobSummary> jobs =
        queries.list(parsed, type == null || type.isBlank() ? null : type, limit);
    return okJson(jobs);
  }

  @GetMapping("/dead-jobs")
  ResponseEntity<?> deadJobs(@RequestParam(defaultValue = "100") int limit) {
    if (limit < 1 || limit > MAX_LIST) {
      return Problems.badRequest("limit", "must be between 1 and " + MAX_LIST);
    }
    List<DeadJob> dead = deadJobs.listDead(limit);
    return okJson(dead);
  }

  private static ResponseEntity<String> okJson(Object body) {
    return ResponseEntity.ok().contentType(MediaType.APPLICATION_JSON).body(json(body));
  }

  private static String json(Object body) {
    return Json.mapper().writeValueAsString(body);
  }
}
