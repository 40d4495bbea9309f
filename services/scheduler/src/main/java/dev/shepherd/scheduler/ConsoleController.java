package dev.shepherd.scheduler;

import dev.shepherd.engine.access.Caller;
import dev.shepherd.engine.access.Operation;
import dev.shepherd.engine.access.PolicySource;
import dev.shepherd.engine.intake.JobTypeCatalog;
import dev.shepherd.messaging.Topology;
import dev.shepherd.model.DeadJob;
import dev.shepherd.model.JobState;
import dev.shepherd.model.JobSummary;
import dev.shepherd.model.JobView;
import dev.shepherd.model.WorkerView;
import dev.shepherd.scheduler.console.ConsolePages;
import dev.shepherd.scheduler.console.CursorPage;
import dev.shepherd.scheduler.console.Html;
import dev.shepherd.scheduler.console.JobFilter;
import dev.shepherd.scheduler.console.Overview;
import dev.shepherd.scheduler.console.Timeline;
import dev.shepherd.scheduler.console.Viewer;
import dev.shepherd.store.JobQueries;
import dev.shepherd.store.WorkerRegistry;
import jakarta.servlet.http.HttpServletRequest;
import java.io.IOException;
import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.springframework.amqp.core.AmqpAdmin;
import org.springframework.amqp.core.QueueInformation;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.ProblemDetail;
import org.springframework.http.ResponseEntity;
import org.springframework.security.web.csrf.CsrfToken;
import org.springframework.stereotype.Controller;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.ResponseBody;
import org.springframework.web.servlet.mvc.method.annotation.SseEmitter;

/**
 * The operators' console at {@code /console} (issue 19, ADR 41): HTML pages over the API's own
 * reads and actions. Every read goes through the method the REST controller answers with (and so
 * through {@link Access}: another tenant's jobs are not there); every action calls the REST
 * controller's own method, so a console cancel, redrive or discard is checked and recorded as the
 * API's is, and answers 403 without the grant.
 */
@Controller
@RequestMapping(ConsoleController.BASE)
@ResponseBody
class ConsoleController {

  static final String BASE = ConsolePages.BASE;

  /** How often an open overview is sent again. */
  static final Duration LIVE_EVERY = Duration.ofSeconds(2);

  /** How long one overview stream stays open before the browser opens another. */
  static final Duration LIVE_STREAM = Duration.ofMinutes(10);

  private static final MediaType HTML =
      new MediaType(MediaType.TEXT_HTML, java.nio.charset.StandardCharsets.UTF_8);

  private final Access access;
  private final AccessProperties accessProperties;
  private final PolicySource policy;
  private final JobsController jobs;
  private final DeadJobsController deadJobs;
  private final WorkersController workers;
  private final CancelController cancels;
  private final JobQueries queries;
  private final WorkerRegistry registry;
  private final Topology topology;
  private final JobTypeCatalog catalog;
  private final ObjectProvider<AmqpAdmin> amqpAdmin;
  private final ScheduledExecutorService live;
  private final Clock clock;

  ConsoleController(
      Access access,
      AccessProperties accessProperties,
      PolicySource policy,
      JobsController jobs,
      DeadJobsController deadJobs,
      WorkersController workers,
      CancelController cancels,
      JobQueries queries,
      WorkerRegistry registry,
      Topology topology,
      JobTypeCatalog catalog,
      ObjectProvider<AmqpAdmin> amqpAdmin,
      ScheduledExecutorService consoleLive,
      Clock clock) {
    this.access = access;
    this.accessProperties = accessProperties;
    this.policy = policy;
    this.jobs = jobs;
    this.deadJobs = deadJobs;
    this.workers = workers;
    this.cancels = cancels;
    this.queries = queries;
    this.registry = registry;
    this.topology = topology;
    this.catalog = catalog;
    this.amqpAdmin = amqpAdmin;
    this.live = consoleLive;
    this.clock = clock;
  }

  // ------------------------------------------------------------------ sign in and out

  @GetMapping("/login")
  ResponseEntity<String> loginPage(HttpServletRequest request) {
    if (!accessProperties.enabled()) {
      return redirect(BASE);
    }
    return html(HttpStatus.OK, ConsolePages.login(null, anonymous(request)));
  }

  @PostMapping("/login")
  ResponseEntity<String> login(
      HttpServletRequest request, @RequestParam(defaultValue = "") String apiKey) {
    if (!accessProperties.enabled()) {
      return redirect(BASE);
    }
    String key = apiKey.trim();
    if (key.isEmpty() || policy.current().keys().authenticate(key).isEmpty()) {
      return html(
          HttpStatus.UNAUTHORIZED,
          ConsolePages.login("That key is not known.", anonymous(request)));
    }
    return ResponseEntity.status(HttpStatus.SEE_OTHER)
        .location(URI.create(BASE))
        .header(
            HttpHeaders.SET_COOKIE,
            ConsoleKeyCookieFilter.signIn(key, request.isSecure()).toString(),
            // a new CSRF token for the signed-in browser, not the one it had before
            ConsoleWiring.dropCsrfToken(request.isSecure()).toString())
        .build();
  }

  @PostMapping("/logout")
  ResponseEntity<String> logout(HttpServletRequest request) {
    return ResponseEntity.status(HttpStatus.SEE_OTHER)
        .location(URI.create(BASE + "/login"))
        .header(
            HttpHeaders.SET_COOKIE, ConsoleKeyCookieFilter.signOut(request.isSecure()).toString())
        .build();
  }

  // ------------------------------------------------------------------ overview

  @GetMapping({"", "/"})
  ResponseEntity<String> overview(HttpServletRequest request) {
    Viewer viewer = viewer(request);
    return html(HttpStatus.OK, ConsolePages.overview(readOverview(viewer), viewer));
  }

  /**
   * The overview's live part as server-sent events ({@code overview}, data the HTML fragment),
   * every {@link #LIVE_EVERY}; what the caller may see is decided once, when the stream opens.
   */
  @GetMapping(path = "/overview/events", produces = MediaType.TEXT_EVENT_STREAM_VALUE)
  SseEmitter overviewEvents(HttpServletRequest request) {
    Viewer viewer = viewer(request);
    SseEmitter stream = new SseEmitter(LIVE_STREAM.toMillis());
    AtomicReference<ScheduledFuture<?>> ticks = new AtomicReference<>();
    Runnable stop =
        () -> {
          ScheduledFuture<?> t = ticks.get();
          if (t != null) {
            t.cancel(false);
          }
        };
    Runnable send =
        () -> {
          try {
            stream.send(
                SseEmitter.event()
                    .name("overview")
                    .data(ConsolePages.overviewFragment(readOverview(viewer))));
          } catch (IOException | IllegalStateException gone) {
            // the browser went away: stop sending to it
            stop.run();
            stream.completeWithError(gone);
          } catch (RuntimeException unreadable) {
            // Redis did not answer: end this stream (logged by Spring as an async error); the
            // browser's EventSource opens another in a few seconds, and the page shows the last
            // overview's time meanwhile
            stop.run();
            stream.completeWithError(unreadable);
          }
        };
    ticks.set(live.scheduleWithFixedDelay(send, 0, LIVE_EVERY.toMillis(), TimeUnit.MILLISECONDS));
    stream.onCompletion(stop);
    stream.onTimeout(stop);
    stream.onError(e -> stop.run());
    return stream;
  }

  /** The overview with what this viewer may see of it (the counts cover every tenant). */
  private Overview readOverview(Viewer viewer) {
    Map<JobState, Long> counts = null;
    List<Overview.PoolBacklog> pools = null;
    if (viewer.seesEveryTenant()) {
      counts = new EnumMap<>(JobState.class);
      for (JobState s : JobState.values()) {
        counts.put(s, queries.countInState(s));
      }
      pools =
          topology.pools().keySet().stream()
              .sorted()
              .map(
                  pool -> {
                    JobQueries.PoolBacklog b = queries.backlog(pool);
                    return new Overview.PoolBacklog(pool, b.depth(), b.oldestQueuedAt());
                  })
              .toList();
    }
    Integer alive = null;
    Integer lost = null;
    Integer keysDown = null;
    if (viewer.admin()) {
      List<WorkerView> all = registry.list();
      lost = (int) all.stream().filter(w -> WorkerView.LOST.equals(w.state())).count();
      alive = all.size() - lost;
      keysDown = queries.orderingKeysDownSince().size();
    }
    return new Overview(counts, pools, alive, lost, keysDown, clock.instant());
  }

  // ------------------------------------------------------------------ jobs

  @GetMapping("/jobs")
  ResponseEntity<String> jobs(
      HttpServletRequest request,
      @RequestParam(required = false) String state,
      @RequestParam(required = false) String type,
      @RequestParam(required = false) String key,
      @RequestParam(required = false) String pool,
      @RequestParam(required = false) String within,
      @RequestParam(defaultValue = "" + JobFilter.PAGE) int size,
      @RequestParam(required = false) String after,
      @RequestParam(required = false) String notice) {
    Viewer viewer = viewer(request);
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
    var filter =
        new JobFilter(
            parsed == null ? null : parsed.name(),
            blankToNull(type),
            blankToNull(key),
            blankToNull(pool),
            window,
            size);
    List<JobSummary> listed =
        filter.key() == null
            ? jobs.listed(parsed, filter.type(), Problems.MAX_LIST)
            : ofOrderingKey(filter.key(), parsed, filter.type());
    var now = clock.instant();
    List<JobSummary> candidates =
        filter.pool() == null && filter.within() == null
            ? listed
            : listed.stream().filter(j -> filter.accepts(j, catalog::poolOf, now)).toList();
    CursorPage<JobSummary> page =
        CursorPage.after(candidates, JobSummary::id, after, filter.size());
    return html(HttpStatus.OK, ConsolePages.jobs(filter, pools(), page, after, notice, viewer));
  }

  /** The caller's unfinished jobs of an ordering key, in the key's order, filtered. */
  private List<JobSummary> ofOrderingKey(String key, JobState state, String type) {
    access.requireSome(Operation.READ);
    return queries.orderingKeyQueue(key).stream()
        .map(jobs::readable)
        .flatMap(Optional::stream)
        .filter(j -> state == null || j.state() == state)
        .filter(j -> type == null || type.equals(j.type()))
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
    Viewer viewer = viewer(request);
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
            new ConsolePages.JobActions(cancel, redrive),
            notice,
            viewer));
  }

  @GetMapping("/jobs/{id}/cancel")
  ResponseEntity<String> confirmCancel(HttpServletRequest request, @PathVariable String id) {
    Viewer viewer = viewer(request);
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
    return after(request, answer, BASE + "/jobs/" + Html.url(id), "Cancelled.");
  }

  // ------------------------------------------------------------------ dead jobs

  @GetMapping("/dead")
  ResponseEntity<String> dead(
      HttpServletRequest request, @RequestParam(required = false) String notice) {
    Viewer viewer = viewer(request);
    List<ConsolePages.DeadRow> rows =
        deadJobs.readable(Problems.MAX_LIST).stream()
            .map(
                r ->
                    new ConsolePages.DeadRow(
                        r,
                        deadJobs.reaches(r, Operation.REDRIVE),
                        deadJobs.reaches(r, Operation.DISCARD)))
            .toList();
    return html(HttpStatus.OK, ConsolePages.dead(rows, notice, viewer));
  }

  @GetMapping("/dead/{id}/redrive")
  ResponseEntity<String> confirmRedrive(HttpServletRequest request, @PathVariable String id) {
    return html(
        HttpStatus.OK,
        ConsolePages.confirm(
            "Redrive dead job",
            "Put the job of dead-job record " + id + " back for one more attempt?",
            BASE + "/dead/" + Html.url(id) + "/redrive",
            "Redrive",
            false,
            BASE + "/dead",
            viewer(request)));
  }

  @PostMapping("/dead/{id}/redrive")
  ResponseEntity<String> redrive(HttpServletRequest request, @PathVariable String id) {
    ResponseEntity<?> answer = deadJobs.redrive(id, null, null);
    return after(request, answer, BASE + "/dead", "Redriven: record " + id + ".");
  }

  @GetMapping("/dead/{id}/discard")
  ResponseEntity<String> confirmDiscard(HttpServletRequest request, @PathVariable String id) {
    return html(
        HttpStatus.OK,
        ConsolePages.confirm(
            "Discard dead job",
            "Discard dead-job record " + id + "? It is kept among the discarded.",
            BASE + "/dead/" + Html.url(id) + "/discard",
            "Discard",
            false,
            BASE + "/dead",
            viewer(request)));
  }

  @PostMapping("/dead/{id}/discard")
  ResponseEntity<String> discard(HttpServletRequest request, @PathVariable String id) {
    ResponseEntity<?> answer = deadJobs.discard(id, null, null);
    return after(request, answer, BASE + "/dead", "Discarded: record " + id + ".");
  }

  /** Confirms one action on the selected dead-job records (a GET: nothing changes yet). */
  @GetMapping("/dead/bulk")
  ResponseEntity<String> confirmBulk(
      HttpServletRequest request,
      @RequestParam(defaultValue = "") String action,
      @RequestParam(required = false) List<String> ids) {
    Viewer viewer = viewer(request);
    Optional<ConsolePages.Bulk> bulk = bulk(action);
    if (bulk.isEmpty() || ids == null || ids.isEmpty()) {
      return html(
          HttpStatus.BAD_REQUEST,
          ConsolePages.message(
              "Nothing selected",
              "Select dead jobs, then redrive or discard them.",
              BASE + "/dead",
              viewer));
    }
    return html(HttpStatus.OK, ConsolePages.confirmBulk(bulk.get(), ids, viewer));
  }

  /** Redrives or discards each selected record through the API's own action, and says how many. */
  @PostMapping("/dead/bulk")
  ResponseEntity<String> bulk(
      HttpServletRequest request,
      @RequestParam(defaultValue = "") String action,
      @RequestParam(required = false) List<String> ids) {
    Optional<ConsolePages.Bulk> bulk = bulk(action);
    if (bulk.isEmpty() || ids == null || ids.isEmpty() || ids.size() > Problems.MAX_LIST) {
      return html(
          HttpStatus.BAD_REQUEST,
          ConsolePages.message(
              "Nothing done",
              "Name an action and 1 to " + Problems.MAX_LIST + " records.",
              BASE + "/dead",
              viewer(request)));
    }
    // a caller with no grant for the action on any type is refused before any record is looked at
    access.requireSome(
        bulk.get() == ConsolePages.Bulk.REDRIVE ? Operation.REDRIVE : Operation.DISCARD);
    int done = 0;
    List<String> refused = new java.util.ArrayList<>();
    for (String id : ids) {
      ResponseEntity<?> answer;
      try {
        answer =
            bulk.get() == ConsolePages.Bulk.REDRIVE
                ? deadJobs.redrive(id, null, null)
                : deadJobs.discard(id, null, null);
      } catch (Access.Denied e) {
        refused.add(id + ": " + e.getMessage());
        continue;
      }
      if (answer.getStatusCode().is2xxSuccessful()) {
        done++;
      } else {
        refused.add(
            id
                + ": "
                + (answer.getBody() instanceof ProblemDetail p
                    ? p.getDetail()
                    : answer.getStatusCode()));
      }
    }
    if (done == 0
        && !refused.isEmpty()
        && refused.stream().allMatch(r -> r.contains(" may not "))) {
      // nothing was allowed: the same answer as one action without the grant
      throw new Access.Denied(String.join("; ", refused));
    }
    String notice =
        (bulk.get() == ConsolePages.Bulk.REDRIVE ? "Redriven: " : "Discarded: ")
            + done
            + " of "
            + ids.size()
            + "."
            + (refused.isEmpty() ? "" : " Not done: " + String.join("; ", refused));
    return redirect(BASE + "/dead?notice=" + Html.url(notice));
  }

  private static Optional<ConsolePages.Bulk> bulk(String action) {
    return switch (action) {
      case "redrive" -> Optional.of(ConsolePages.Bulk.REDRIVE);
      case "discard" -> Optional.of(ConsolePages.Bulk.DISCARD);
      default -> Optional.empty();
    };
  }

  // ------------------------------------------------------------------ queues

  /** Each queue of the topology as the broker reports it: an administrator's view. */
  @GetMapping("/queues")
  ResponseEntity<String> queues(HttpServletRequest request) {
    Viewer viewer = viewer(request);
    List<ConsolePages.QueueRow> rows = null;
    AmqpAdmin admin = amqpAdmin.getIfAvailable();
    if (viewer.admin()) {
      rows =
          topology.queueNames().stream()
              .sorted()
              .map(
                  name -> {
                    QueueInformation info = admin == null ? null : queueInfo(admin, name);
                    return info == null
                        ? new ConsolePages.QueueRow(name, null, null)
                        : new ConsolePages.QueueRow(
                            name, (long) info.getMessageCount(), info.getConsumerCount());
                  })
              .toList();
    }
    return html(HttpStatus.OK, ConsolePages.queues(rows, viewer));
  }

  /** The broker's count of a queue; null when it will not say (missing, or no permission). */
  private static QueueInformation queueInfo(AmqpAdmin admin, String name) {
    try {
      return admin.getQueueInfo(name);
    } catch (org.springframework.amqp.AmqpException e) {
      return null;
    }
  }

  // ------------------------------------------------------------------ workers

  @GetMapping("/workers")
  ResponseEntity<String> workers(HttpServletRequest request) {
    Viewer viewer = viewer(request);
    List<WorkerView> listed = viewer.admin() ? workers.listed() : null;
    return html(HttpStatus.OK, ConsolePages.workers(listed, clock.instant(), viewer));
  }

  // ------------------------------------------------------------------ parts

  /** After an action: back to {@code back} with a notice, or a page with the API's refusal. */
  private ResponseEntity<String> after(
      HttpServletRequest request, ResponseEntity<?> answer, String back, String done) {
    if (answer.getStatusCode().is2xxSuccessful()) {
      return redirect(back + "?notice=" + Html.url(done));
    }
    String detail =
        answer.getBody() instanceof ProblemDetail p && p.getDetail() != null
            ? p.getDetail()
            : "refused (" + answer.getStatusCode().value() + ")";
    return html(
        HttpStatus.valueOf(answer.getStatusCode().value()),
        ConsolePages.message("Not done", detail, back, viewer(request)));
  }

  /** The pools of the topology, by name. */
  private List<String> pools() {
    return topology.pools().keySet().stream().sorted().toList();
  }

  private boolean may(Caller caller, Operation operation, String type) {
    return caller == Caller.UNCHECKED || access.policy().allows(caller, operation, type);
  }

  private Viewer viewer(HttpServletRequest request) {
    Caller caller = access.caller();
    boolean unchecked = caller == Caller.UNCHECKED;
    CsrfToken token = (CsrfToken) request.getAttribute(CsrfToken.class.getName());
    return new Viewer(
        unchecked ? null : caller.name(),
        !unchecked && ConsoleKeyCookieFilter.keyOf(request).isPresent(),
        unchecked || Caller.ALL_TENANTS.equals(caller.tenant()),
        unchecked || access.policy().isAdmin(caller),
        token == null ? null : token.getParameterName(),
        token == null ? null : token.getToken());
  }

  private static Viewer anonymous(HttpServletRequest request) {
    CsrfToken token = (CsrfToken) request.getAttribute(CsrfToken.class.getName());
    return new Viewer(
        null,
        false,
        false,
        false,
        token == null ? null : token.getParameterName(),
        token == null ? null : token.getToken());
  }

  private static ResponseEntity<String> html(HttpStatus status, String page) {
    return ResponseEntity.status(status).contentType(HTML).body(page);
  }

  private static ResponseEntity<String> redirect(String to) {
    return ResponseEntity.status(HttpStatus.SEE_OTHER).location(URI.create(to)).build();
  }

  private static String blankToNull(String s) {
    return s == null || s.isBlank() ? null : s.trim();
  }
}
