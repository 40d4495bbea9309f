package dev.shepherd.scheduler;

import static dev.shepherd.scheduler.ConsoleViews.blankToNull;
import static dev.shepherd.scheduler.ConsoleViews.html;
import static dev.shepherd.scheduler.ConsoleViews.redirect;

import dev.shepherd.engine.access.Caller;
import dev.shepherd.engine.access.Operation;
import dev.shepherd.messaging.Topology;
import dev.shepherd.model.DeadJob;
import dev.shepherd.model.JobState;
import dev.shepherd.model.JobSummary;
import dev.shepherd.model.JobView;
import dev.shepherd.scheduler.console.ConsolePages;
import dev.shepherd.scheduler.console.CursorPage;
import dev.shepherd.scheduler.console.Html;
import dev.shepherd.scheduler.console.JobFilter;
import dev.shepherd.scheduler.console.Timeline;
import dev.shepherd.scheduler.console.Viewer;
import dev.shepherd.store.JobQueries;
import jakarta.servlet.http.HttpServletRequest;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.springframework.http.HttpStatus;
import org.springframework.http.ResponseEntity;
import org.springframework.stereotype.Controller;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.ResponseBody;

/**
 * The console's jobs (ADR 42): the list with its filters and cursor, the search by id or
 * idempotency key, one job with its phases, and its cancel (the API's {@link CancelController} does
 * it, behind a confirmation page).
 */
@Controller
@RequestMapping(ConsoleController.BASE)
@ResponseBody
class ConsoleJobsController {

  private static final String BASE = ConsoleController.BASE;

  private final ConsoleViews views;
  private final Access access;
  private final JobsController jobs;
  private final DeadJobsController deadJobs;
  private final CancelController cancels;
  private final RetryNowController retries;
  private final JobQueries queries;
  private final Topology topology;
  private final Clock clock;

  ConsoleJobsController(
      ConsoleViews views,
      Access access,
      JobsController jobs,
      DeadJobsController deadJobs,
      CancelController cancels,
      RetryNowController retries,
      JobQueries queries,
      Topology topology,
      Clock clock) {
    this.views = views;
    this.access = access;
    this.jobs = jobs;
    this.deadJobs = deadJobs;
    this.cancels = cancels;
    this.retries = retries;
    this.queries = queries;
    this.topology = topology;
    this.clock = clock;
  }

  @GetMapping("/jobs")
  ResponseEntity<String> jobs(
      HttpServletRequest request,
      @RequestParam(required = false) String state,
      @RequestParam(required = false) String type,
      @RequestParam(required = false) String key,
      @RequestParam(required = false) String pool,
      @RequestParam(required = false) String within,
      @RequestParam(required = false) String from,
      @RequestParam(required = false) String to,
      @RequestParam(defaultValue = "" + JobFilter.PAGE) int size,
      @RequestParam(required = false) String after,
      @RequestParam(required = false) String notice) {
    Viewer viewer = views.viewer(request);
    JobState parsed = null;
    if (state != null && !state.isBlank()) {
      try {
        parsed = JobState.valueOf(state.trim().toUpperCase(java.util.Locale.ROOT));
      } catch (IllegalArgumentException e) {
        return html(
            HttpStatus.BAD_REQUEST,
            ConsolePages.message(
                "No such state", "There is no state '" + state + "'.", BASE + "/jobs", viewer));
      }
    }
    Duration window = null;
    if (within != null && !within.isBlank()) {
      try {
        window = Duration.parse(within.trim());
      } catch (java.time.format.DateTimeParseException e) {
        return html(
            HttpStatus.BAD_REQUEST,
            ConsolePages.message(
                "No such window",
                "'" + within + "' is not a duration (PT1H is an hour).",
                BASE + "/jobs",
                viewer));
      }
    }
    Instant fromAt;
    Instant toAt;
    try {
      fromAt = JobFilter.parseTime(from);
      toAt = JobFilter.parseTime(to);
    } catch (java.time.format.DateTimeParseException e) {
      return html(
          HttpStatus.BAD_REQUEST,
          ConsolePages.message(
              "No such time",
              "'" + e.getParsedString() + "' is not a time (2026-12-01T20:00 is in UTC).",
              BASE + "/jobs",
              viewer));
    }
    var filter =
        new JobFilter(
            parsed == null ? null : parsed.name(),
            blankToNull(type),
            blankToNull(key),
            blankToNull(pool),
            window,
            fromAt,
            toAt,
            size);
    var now = clock.instant();
    if (filter.key() != null) {
      // an ordering key's unfinished jobs are few: its queue, filtered here
      List<JobSummary> ofKey = ofOrderingKey(filter, parsed, now);
      CursorPage<JobSummary> page = CursorPage.after(ofKey, JobSummary::id, after, filter.size());
      return html(
          HttpStatus.OK, ConsolePages.jobs(filter, pools(), page, after, false, notice, viewer));
    }
    JobQueries.JobPage page;
    try {
      page =
          jobs.paged(
              new JobQueries.JobPageRequest(
                  parsed,
                  filter.type(),
                  filter.pool(),
                  filter.since(now),
                  filter.to(),
                  blankToNull(after),
                  filter.size()));
    } catch (IllegalArgumentException e) {
      return html(
          HttpStatus.BAD_REQUEST,
          ConsolePages.message(
              "No such page",
              "That page link is not one this console made.",
              BASE + "/jobs",
              viewer));
    }
    return html(
        HttpStatus.OK,
        ConsolePages.jobs(
            filter,
            pools(),
            new CursorPage<>(page.rows(), page.next()),
            after,
            page.windowEnded(),
            notice,
            viewer));
  }

  /** The caller's unfinished jobs of an ordering key, in the key's order, filtered. */
  private List<JobSummary> ofOrderingKey(JobFilter filter, JobState state, Instant now) {
    access.requireSome(Operation.READ);
    return queries.orderingKeyQueue(filter.key()).stream()
        .map(jobs::readable)
        .flatMap(Optional::stream)
        .filter(j -> state == null || j.state() == state)
        .filter(j -> filter.type() == null || filter.type().equals(j.type()))
        .filter(j -> filter.pool() == null || filter.pool().equals(j.pool()))
        .filter(j -> filter.accepts(j.submittedAt(), now))
        .map(j -> new JobSummary(j.id(), j.type(), j.state(), j.attempt(), j.submittedAt()))
        .toList();
  }

  /** Finds a job by its id, else by an idempotency key of the caller's tenant. */
  @GetMapping("/jobs/search")
  ResponseEntity<String> search(
      HttpServletRequest request, @RequestParam(defaultValue = "") String q) {
    String wanted = q.trim();
    Optional<JobView> found =
        wanted.isEmpty()
            ? Optional.empty()
            : jobs.readable(wanted).or(() -> jobs.readableByIdempotencyKey(wanted, null));
    if (found.isPresent()) {
      return redirect(BASE + "/jobs/" + Html.url(found.get().id()));
    }
    return redirect(
        BASE
            + "/jobs?notice="
            + Html.url("No job has the id or idempotency key '" + wanted + "'."));
  }

  @GetMapping("/jobs/{id}")
  ResponseEntity<String> job(
      HttpServletRequest request,
      @PathVariable String id,
      @RequestParam(required = false) String notice) {
    Viewer viewer = views.viewer(request);
    Optional<JobView> found = jobs.readable(id);
    if (found.isEmpty()) {
      return html(
          HttpStatus.NOT_FOUND,
          ConsolePages.message(
              "Not found", "No job with id '" + id + "'.", BASE + "/jobs", viewer));
    }
    JobView job = found.get();
    Caller caller = access.caller();
    boolean cancel = !job.state().isTerminal() && may(caller, Operation.CANCEL, job.type());
    String redrive = null;
    if (job.state() == JobState.DEAD && may(caller, Operation.REDRIVE, job.type())) {
      redrive =
          deadJobs.readable(Problems.MAX_LIST).stream()
              .filter(r -> job.id().equals(r.jobId()))
              .map(DeadJob::id)
              .findFirst()
              .orElse(null);
    }
    return html(
        HttpStatus.OK,
        ConsolePages.job(
            job,
            Timeline.of(job.phases(), clock.instant()),
            new ConsolePages.JobActions(
                cancel,
                redrive,
                job.state() == JobState.RETRY_WAIT && may(caller, Operation.REDRIVE, job.type()),
                queries.nextAttemptAt(job.id()).orElse(null)),
            notice,
            viewer));
  }

  @GetMapping("/jobs/{id}/cancel")
  ResponseEntity<String> confirmCancel(HttpServletRequest request, @PathVariable String id) {
    Viewer viewer = views.viewer(request);
    String back = BASE + "/jobs/" + Html.url(id);
    return html(
        HttpStatus.OK,
        ConsolePages.confirm(
            "Cancel job",
            "Cancel job " + id + "? A running attempt is asked to stop.",
            back + "/cancel",
            "Cancel the job",
            true,
            back,
            viewer));
  }

  @PostMapping("/jobs/{id}/cancel")
  ResponseEntity<String> cancel(
      HttpServletRequest request,
      @PathVariable String id,
      @RequestParam(required = false) String reason) {
    ResponseEntity<?> answer = cancels.cancel(id, null, null, blankToNull(reason));
    return views.after(request, answer, BASE + "/jobs/" + Html.url(id), "Cancelled.");
  }

  @GetMapping("/jobs/{id}/retry-now")
  ResponseEntity<String> confirmRetryNow(HttpServletRequest request, @PathVariable String id) {
    Viewer viewer = views.viewer(request);
    String back = BASE + "/jobs/" + Html.url(id);
    return html(
        HttpStatus.OK,
        ConsolePages.confirm(
            "Retry job now",
            "Retry job " + id + " now, without waiting for the rest of its backoff?",
            back + "/retry-now",
            "Retry now",
            false,
            back,
            viewer));
  }

  @PostMapping("/jobs/{id}/retry-now")
  ResponseEntity<String> retryNow(HttpServletRequest request, @PathVariable String id) {
    ResponseEntity<?> answer = retries.retryNow(id, null, null);
    return views.after(request, answer, BASE + "/jobs/" + Html.url(id), "Due now: it is retried.");
  }

  /** The pools of the topology, by name. */
  private List<String> pools() {
    return topology.pools().keySet().stream().sorted().toList();
  }

  private boolean may(Caller caller, Operation operation, String type) {
    return caller == Caller.UNCHECKED || access.policy().allows(caller, operation, type);
  }
}
