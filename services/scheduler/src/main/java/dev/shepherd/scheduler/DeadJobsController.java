package dev.shepherd.scheduler;

import dev.shepherd.engine.WorkLoop;
import dev.shepherd.engine.access.Caller;
import dev.shepherd.engine.access.Operation;
import dev.shepherd.engine.dispatch.Dispatcher;
import dev.shepherd.model.DeadJob;
import dev.shepherd.model.JobState;
import dev.shepherd.store.DeadJobs;
import dev.shepherd.store.JobQueries;
import java.util.List;
import org.springframework.http.HttpStatus;
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
 * Dead jobs: the list of records, redrive and discard. Who acts is taken from the {@code
 * X-Shepherd-Actor} header (or {@code by}), and kept: a redrive is a line in the job's history, a
 * discard stays in the discarded records with who and when.
 */
@RestController
@RequestMapping("/api/v1/dead-jobs")
class DeadJobsController {

  /** A dead job put back: it is QUEUED again. */
  record Redriven(String jobId, JobState state) {}

  /** What a redrive of every dead job of one type did. */
  record RedrivenOfType(String type, int redriven, int skipped) {}

  private final DeadJobs deadJobs;
  private final Dispatcher dispatcher;
  private final WorkLoop dispatchLoop;
  private final JobQueries queries;
  private final Access access;

  DeadJobsController(
      DeadJobs deadJobs,
      Dispatcher dispatcher,
      WorkLoop dispatchLoop,
      JobQueries queries,
      Access access) {
    this.deadJobs = deadJobs;
    this.dispatcher = dispatcher;
    this.dispatchLoop = dispatchLoop;
    this.queries = queries;
    this.access = access;
  }

  /**
   * Whether the caller may do {@code operation} on a record (ADR 40): the record of a job is its
   * job's tenant's, and takes a grant on its type; a message that never became a job belongs to no
   * tenant and takes admin.
   */
  boolean reaches(DeadJob record, Operation operation) {
    Caller caller = access.caller();
    if (caller == Caller.UNCHECKED) {
      return true;
    }
    if (!visible(record)) {
      return false;
    }
    return record.type() == null
        ? access.policy().isAdmin(caller)
        : access.policy().allows(caller, operation, record.type());
  }

  /** The dead-job records the caller may read, newest first. */
  @GetMapping
  ResponseEntity<?> list(@RequestParam(defaultValue = "100") int limit) {
    if (limit < 1 || limit > Problems.MAX_LIST) {
      return Problems.limitOutOfRange();
    }
    return JsonResponses.ok(readable(limit));
  }

  /** The newest dead-job records the caller may read (the API's and the console's one way). */
  List<DeadJob> readable(int limit) {
    access.requireSome(Operation.READ);
    return deadJobs.listDead(limit).stream().filter(r -> reaches(r, Operation.READ)).toList();
  }

  @PostMapping("/{id}/redrive")
  ResponseEntity<?> redrive(
      @PathVariable String id,
      @RequestHeader(name = Actors.HEADER, required = false) String actor,
      @RequestParam(required = false) String by) {
    DeadJob record = deadJobs.findDead(id).orElse(null);
    if (record == null || !visible(record)) {
      return Problems.notFound("no dead-job record with id '" + id + "'");
    }
    if (!reaches(record, Operation.REDRIVE)) {
      throw new Access.Denied(access.caller().name() + " may not redrive record '" + id + "'");
    }
    String jobId = record.jobId();
    return switch (deadJobs.redrive(id, access.actor(actor, by))) {
      case REDRIVEN -> {
        dispatcher.markDirty(jobId);
        dispatchLoop.wakeUp();
        yield JsonResponses.accepted(
            JsonResponses.jobLocation(jobId), new Redriven(jobId, JobState.QUEUED));
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
    access.require(Operation.REDRIVE, type);
    int redriven = 0;
    int skipped = 0;
    for (DeadJob record : deadJobs.listDead(Problems.MAX_LIST)) {
      if (!type.equals(record.type())
          || record.jobId() == null
          || !reaches(record, Operation.REDRIVE)) {
        continue;
      }
      if (deadJobs.redrive(record.id(), access.actor(actor, by))
          == DeadJobs.RedriveOutcome.REDRIVEN) {
        dispatcher.markDirty(record.jobId());
        redriven++;
      } else {
        skipped++;
      }
    }
    dispatchLoop.wakeUp();
    return JsonResponses.ok(new RedrivenOfType(type, redriven, skipped));
  }

  @DeleteMapping("/{id}")
  ResponseEntity<?> discard(
      @PathVariable String id,
      @RequestHeader(name = Actors.HEADER, required = false) String actor,
      @RequestParam(required = false) String by) {
    DeadJob record = deadJobs.findDead(id).orElse(null);
    if (record == null || !visible(record)) {
      return Problems.notFound("no dead-job record with id '" + id + "'");
    }
    if (!reaches(record, Operation.DISCARD)) {
      throw new Access.Denied(access.caller().name() + " may not discard record '" + id + "'");
    }
    return deadJobs.discardDead(id, access.actor(actor, by))
        ? ResponseEntity.noContent().build()
        : Problems.notFound("no dead-job record with id '" + id + "'");
  }

  @GetMapping("/discarded")
  ResponseEntity<?> discarded(@RequestParam(defaultValue = "100") int limit) {
    if (limit < 1 || limit > Problems.MAX_LIST) {
      return Problems.limitOutOfRange();
    }
    access.requireSome(Operation.READ);
    return JsonResponses.ok(
        deadJobs.listDiscarded(limit).stream().filter(r -> reaches(r, Operation.READ)).toList());
  }

  /** Whether the record is there for the caller: its job's tenant is the caller's (else 404). */
  private boolean visible(DeadJob record) {
    Caller caller = access.caller();
    if (caller == Caller.UNCHECKED) {
      return true;
    }
    String tenant =
        record.jobId() == null
            ? Caller.NO_TENANT
            : queries.owner(record.jobId()).map(JobQueries.Owner::tenant).orElse(Caller.NO_TENANT);
    return caller.sees(tenant);
  }

  private static ResponseEntity<Object> conflict(String detail) {
    ProblemDetail problem = ProblemDetail.forStatusAndDetail(HttpStatus.CONFLICT, detail);
    problem.setTitle("Cannot redrive");
    return Problems.response(problem);
  }
}
