package dev.shepherd.scheduler;

import dev.shepherd.engine.WorkLoop;
import dev.shepherd.engine.dispatch.Dispatcher;
import dev.shepherd.model.DeadJob;
import dev.shepherd.model.Json;
import dev.shepherd.store.DeadJobs;
import java.net.URI;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.ProblemDetail;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.DeleteMapping;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestHeader;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

/**
 * Redrive and discard of dead jobs. Who acts is taken from the {@code X-Shepherd-Actor} header (or
 * {@code by}), and kept: a redrive is a line in the job's history, a discard stays in the discarded
 * records with who and when.
 */
@RestController
@RequestMapping("/api/v1/dead-jobs")
class DeadJobsController {

  private final DeadJobs deadJobs;
  private final Dispatcher dispatcher;
  private final WorkLoop dispatchLoop;

  DeadJobsController(DeadJobs deadJobs, Dispatcher dispatcher, WorkLoop dispatchLoop) {
    this.deadJobs = deadJobs;
    this.dispatcher = dispatcher;
    this.dispatchLoop = dispatchLoop;
  }

  @PostMapping("/{id}/redrive")
  ResponseEntity<?> redrive(
      @PathVariable String id,
      @RequestHeader(name = Actors.HEADER, required = false) String actor,
      @RequestParam(required = false) String by) {
    DeadJob record = deadJobs.findDead(id).orElse(null);
    if (record == null) {
      return Problems.notFound("no dead-job record with id '" + id + "'");
    }
    String jobId = record.jobId();
    return switch (deadJobs.redrive(id, Actors.who(actor, by))) {
      case REDRIVEN -> {
        dispatcher.markDirty(jobId);
        dispatchLoop.wakeUp();
        yield ResponseEntity.accepted()
            .location(URI.create("/api/v1/jobs/" + jobId))
            .contentType(MediaType.APPLICATION_JSON)
            .body(Json.mapper().writeValueAsString(Map.of("jobId", jobId, "state", "QUEUED")));
      }
      case NO_JOB ->
          conflict(
              "record '"
                  + id
                  + "' names no job: the message never became one. Correct it and submit it"
                  + " again.");
      case NOT_DEAD -> conflict("job '" + jobId + "' is not DEAD any more");
    };
  }

  /** Redrives every dead job of one type; answers how many were put back. */
  @PostMapping("/redrive")
  ResponseEntity<?> redriveByType(
      @RequestParam String type,
      @RequestHeader(name = Actors.HEADER, required = false) String actor,
      @RequestParam(required = false) String by) {
    int redriven = 0;
    int skipped = 0;
    for (DeadJob record : deadJobs.listDead(1000)) {
      if (!type.equals(record.type()) || record.jobId() == null) {
        continue;
      }
      if (deadJobs.redrive(record.id(), Actors.who(actor, by))
          == DeadJobs.RedriveOutcome.REDRIVEN) {
        dispatcher.markDirty(record.jobId());
        redriven++;
      } else {
        skipped++;
      }
    }
    dispatchLoop.wakeUp();
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("type", type);
    body.put("redriven", redriven);
    body.put("skipped", skipped);
    return ResponseEntity.ok()
        .contentType(MediaType.APPLICATION_JSON)
        .body(Json.mapper().writeValueAsString(body));
  }

  @DeleteMapping("/{id}")
  ResponseEntity<?> discard(
      @PathVariable String id,
      @RequestHeader(name = Actors.HEADER, required = false) String actor,
      @RequestParam(required = false) String by) {
    return deadJobs.discardDead(id, Actors.who(actor, by))
        ? ResponseEntity.noContent().build()
        : Problems.notFound("no dead-job record with id '" + id + "'");
  }

  @GetMapping("/discarded")
  ResponseEntity<?> discarded(@RequestParam(defaultValue = "100") int limit) {
    if (limit < 1 || limit > 1000) {
      return Problems.badRequest("limit", "must be between 1 and 1000");
    }
    List<DeadJob> records = deadJobs.listDiscarded(limit);
    return ResponseEntity.ok()
        .contentType(MediaType.APPLICATION_JSON)
        .body(Json.mapper().writeValueAsString(records));
  }

  private static ResponseEntity<Object> conflict(String detail) {
    ProblemDetail problem = ProblemDetail.forStatusAndDetail(HttpStatus.CONFLICT, detail);
    problem.setTitle("Cannot redrive");
    return Problems.response(problem);
  }
}
