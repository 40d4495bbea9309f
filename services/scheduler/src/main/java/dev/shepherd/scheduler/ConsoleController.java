package dev.shepherd.scheduler;

import static dev.shepherd.scheduler.ConsoleViews.html;
import static dev.shepherd.scheduler.ConsoleViews.redirect;

import dev.shepherd.engine.access.PolicySource;
import dev.shepherd.messaging.Topology;
import dev.shepherd.model.JobState;
import dev.shepherd.model.WorkerView;
import dev.shepherd.scheduler.console.ConsolePages;
import dev.shepherd.scheduler.console.Overview;
import dev.shepherd.scheduler.console.Viewer;
import dev.shepherd.store.JobQueries;
import dev.shepherd.store.WorkerRegistry;
import jakarta.servlet.http.HttpServletRequest;
import java.io.IOException;
import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.stereotype.Controller;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.ResponseBody;
import org.springframework.web.servlet.mvc.method.annotation.SseEmitter;

/**
 * The operators' console at {@code /console} (issue 19, ADR 42): signing in and out, and the
 * overview with its live updates. The other pages are {@link ConsoleJobsController}, {@link
 * ConsoleDeadJobsController} and {@link ConsoleFleetController}; all of them read through the
 * methods the REST controllers answer with (and so through {@link Access}: another tenant's jobs
 * are not there), and act through the REST controllers' own methods.
 */
@Controller
@RequestMapping(ConsoleController.BASE)
@ResponseBody
class ConsoleController {

  static final String BASE = ConsolePages.BASE;

  /** How often an open overview is sent again. */
  static final Duration LIVE_EVERY = Duration.ofSeconds(5);

  /** How long one overview stream stays open before the browser opens another. */
  static final Duration LIVE_STREAM = Duration.ofMinutes(10);

  private final ConsoleViews views;
  private final AccessProperties accessProperties;
  private final PolicySource policy;
  private final JobQueries queries;
  private final WorkerRegistry registry;
  private final Topology topology;
  private final ScheduledExecutorService live;
  private final EventStreams streams;
  private final Clock clock;

  ConsoleController(
      ConsoleViews views,
      AccessProperties accessProperties,
      PolicySource policy,
      JobQueries queries,
      WorkerRegistry registry,
      Topology topology,
      ScheduledExecutorService consoleLive,
      EventStreams streams,
      Clock clock) {
    this.views = views;
    this.accessProperties = accessProperties;
    this.policy = policy;
    this.queries = queries;
    this.registry = registry;
    this.topology = topology;
    this.live = consoleLive;
    this.streams = streams;
    this.clock = clock;
  }

  // ------------------------------------------------------------------ sign in and out

  @GetMapping("/login")
  ResponseEntity<String> loginPage(HttpServletRequest request) {
    if (!accessProperties.enabled()) {
      return redirect(BASE);
    }
    return html(HttpStatus.OK, ConsolePages.login(null, ConsoleViews.anonymous(request)));
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
          ConsolePages.login("That key is not known.", ConsoleViews.anonymous(request)));
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
    Viewer viewer = views.viewer(request);
    return html(HttpStatus.OK, ConsolePages.overview(readOverview(viewer), viewer));
  }

  /**
   * The overview's live part as server-sent events ({@code overview}, data the HTML fragment),
   * every {@link #LIVE_EVERY}; what the caller may see is decided once, when the stream opens. It
   * ends when the scheduler stops ({@link EventStreams}), and the browser opens another.
   */
  @GetMapping(path = "/overview/events", produces = MediaType.TEXT_EVENT_STREAM_VALUE)
  SseEmitter overviewEvents(HttpServletRequest request) {
    Viewer viewer = views.viewer(request);
    SseEmitter stream = streams.open(LIVE_STREAM);
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
    List<Overview.Minute> lastHour = null;
    if (viewer.seesEveryTenant()) {
      List<String> names = topology.pools().keySet().stream().sorted().toList();
      JobQueries.Summary summary = queries.summary(names, 60);
      lastHour =
          summary.finishedPerMinute().stream()
              .map(m -> new Overview.Minute(m.start(), m.succeeded(), m.dead(), m.cancelled()))
              .toList();
      counts = summary.counts();
      pools =
          summary.pools().entrySet().stream()
              .map(
                  e -> {
                    var oldest = e.getValue().oldest();
                    return new Overview.PoolBacklog(
                        e.getKey(),
                        e.getValue().depth(),
                        oldest == null ? null : oldest.queuedAt(),
                        oldest == null ? null : oldest.jobId());
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
    return new Overview(counts, pools, lastHour, alive, lost, keysDown, clock.instant());
  }
}
