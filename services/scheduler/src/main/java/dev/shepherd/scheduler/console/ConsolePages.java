package dev.shepherd.scheduler.console;

import static dev.shepherd.scheduler.console.Html.text;
import static dev.shepherd.scheduler.console.Html.time;
import static dev.shepherd.scheduler.console.Html.url;

import dev.shepherd.model.AttemptTask;
import dev.shepherd.model.DeadJob;
import dev.shepherd.model.JobState;
import dev.shepherd.model.JobSummary;
import dev.shepherd.model.JobView;
import dev.shepherd.model.Json;
import dev.shepherd.model.TransitionRecord;
import dev.shepherd.model.WorkerView;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Locale;

/**
 * The console's pages as HTML. Every value is escaped ({@link Html#text}); every form that changes
 * something posts with the viewer's CSRF token; an action is offered only when the caller's grants
 * allow it (the controller checks again on the POST).
 */
public final class ConsolePages {

  /** Where the console lives. */
  public static final String BASE = "/console";

  private ConsolePages() {}

  /**
   * The actions the viewer may take on one job, and when a job waiting for a retry is due.
   *
   * @param redriveRecordId its dead-job record; null when it has none
   * @param retryNow it waits for a retry and the viewer may make it due now
   * @param nextAttemptAt when a job waiting for a retry is published again; null otherwise
   */
  public record JobActions(
      boolean cancel, String redriveRecordId, boolean retryNow, Instant nextAttemptAt) {

    public JobActions(boolean cancel, String redriveRecordId) {
      this(cancel, redriveRecordId, false, null);
    }
  }

  /**
   * One queue of the topology as the broker reports it; null counts when the broker did not say
   * (the queue is missing, or the broker user may not read it).
   */
  public record QueueRow(String name, Long messages, Integer consumers) {}

  /** What a bulk action on dead-job records does: {@code redrive} or {@code discard}. */
  public enum Bulk {
    REDRIVE,
    DISCARD;

    public String word() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  /** A dead-job record and what the viewer may do with it. */
  public record DeadRow(DeadJob record, boolean redrive, boolean discard) {}

  // ---------------------------------------------------------------- pages

  public static String login(String error, Viewer viewer) {
    StringBuilder b = new StringBuilder();
    b.append("<h1>Sign in</h1>");
    if (error != null) {
      b.append("<p class=\"error\" role=\"alert\">").append(text(error)).append("</p>");
    }
    b.append("<form method=\"post\" action=\"")
        .append(BASE)
        .append("/login\" class=\"login\">")
        .append(viewer.csrfField())
        .append("<label for=\"apiKey\">API key</label>")
        .append(
            "<input id=\"apiKey\" name=\"apiKey\" type=\"password\" autocomplete=\"current-password\""
                + " required autofocus>")
        .append("<button type=\"submit\">Sign in</button></form>")
        .append(
            "<p class=\"hint\">The key is kept in a cookie this browser sends only to the console"
                + " (HttpOnly, SameSite=Strict) until the browser closes or you sign out.</p>");
    return layout("Sign in", null, b.toString(), false);
  }

  public static String overview(Overview overview, Viewer viewer) {
    String body =
        "<h1>Overview</h1>"
            + "<div id=\"overview-live\" data-stream=\""
            + BASE
            + "/overview/events\">"
            + overviewFragment(overview)
            + "</div>"
            + "<script src=\""
            + BASE
            + "/overview.js\" defer></script>";
    return layout("Overview", viewer, body, true);
  }

  /** The overview's live part: sent again as a whole on every server-sent event. */
  public static String overviewFragment(Overview o) {
    StringBuilder b = new StringBuilder();
    b.append("<p class=\"updated\">Read at ").append(time(o.at())).append("</p>");
    if (o.counts() == null) {
      b.append(
              "<p>Counts and backlogs cover every tenant's jobs: they are shown to callers of tenant"
                  + " <code>*</code> only. Use <a href=\"")
          .append(BASE)
          .append("/jobs\">Jobs</a> for yours.</p>");
    } else {
      b.append("<section aria-labelledby=\"h-states\"><h2 id=\"h-states\">Jobs by state</h2>")
          .append("<table class=\"counts\"><thead><tr>");
      for (JobState s : JobState.values()) {
        b.append("<th scope=\"col\"><a href=\"")
            .append(BASE)
            .append("/jobs?state=")
            .append(s)
            .append("\">")
            .append(s)
            .append("</a></th>");
      }
      b.append("</tr></thead><tbody><tr>");
      for (JobState s : JobState.values()) {
        b.append("<td id=\"count-")
            .append(s)
            .append("\">")
            .append(o.counts().getOrDefault(s, 0L))
            .append("</td>");
      }
      b.append("</tr></tbody></table></section>");
      b.append("<section aria-labelledby=\"h-pools\"><h2 id=\"h-pools\">Queued by pool</h2>")
          .append(
              "<table><thead><tr><th scope=\"col\">Pool</th><th scope=\"col\">Queued</th>"
                  + "<th scope=\"col\">Oldest queued</th><th scope=\"col\">Waiting</th></tr>"
                  + "</thead><tbody>");
      for (Overview.PoolBacklog p : o.pools()) {
        b.append("<tr><th scope=\"row\">")
            .append(text(p.pool()))
            .append("</th><td id=\"queued-")
            .append(text(p.pool()))
            .append("\">")
            .append(p.queued())
            .append("</td><td>")
            .append(time(p.oldestQueuedAt()))
            .append(
                p.oldestJobId() == null
                    ? ""
                    : " <a class=\"oldest\" href=\""
                        + BASE
                        + "/jobs/"
                        + url(p.oldestJobId())
                        + "\">"
                        + text(p.oldestJobId())
                        + "</a>")
            .append("</td><td>")
            .append(text(duration(p.oldestWait(o.at()))))
            .append("</td></tr>");
      }
      b.append("</tbody></table></section>");
      b.append(lastHour(o));
    }
    if (o.workersAlive() != null) {
      b.append("<section aria-labelledby=\"h-health\"><h2 id=\"h-health\">Workers and keys</h2>")
          .append("<dl class=\"facts\">")
          .append(
              fact(
                  "Workers alive",
                  "<a id=\"workers-alive\" href=\""
                      + BASE
                      + "/workers\">"
                      + o.workersAlive()
                      + "</a>"))
          .append(fact("Workers lost", "<span id=\"workers-lost\">" + o.workersLost() + "</span>"))
          .append(fact("Ordering keys down", "<span id=\"keys-down\">" + o.keysDown() + "</span>"))
          .append("</dl></section>");
    }
    return b.toString();
  }

  /**
   * The last hour: jobs finished, per minute, the share that ended DEAD, and one bar a minute (SVG,
   * so no inline style; each bar's title says its numbers).
   */
  static String lastHour(Overview o) {
    if (o.lastHour() == null) {
      return "";
    }
    long finished = o.finishedLastHour();
    Double dead = o.deadShareLastHour();
    Overview.Minute last = o.lastHour().isEmpty() ? null : o.lastHour().getLast();
    StringBuilder b =
        new StringBuilder(
            "<section aria-labelledby=\"h-hour\"><h2 id=\"h-hour\">The last hour</h2>"
                + "<dl class=\"facts\">");
    b.append(fact("Finished", "<span id=\"finished-hour\">" + finished + "</span>"))
        .append(
            fact(
                "Per minute",
                "<span id=\"per-minute\">"
                    + String.format(java.util.Locale.ROOT, "%.1f", finished / 60.0)
                    + "</span> on average, "
                    + (last == null ? 0 : last.finished())
                    + " in the last minute"))
        .append(
            fact(
                "Ended DEAD",
                "<span id=\"dead-share\">"
                    + (dead == null
                        ? "none finished"
                        : String.format(java.util.Locale.ROOT, "%.1f %%", dead))
                    + "</span>"))
        .append("</dl>");
    long max = o.lastHour().stream().mapToLong(Overview.Minute::finished).max().orElse(0);
    int n = o.lastHour().size();
    b.append("<svg class=\"minutes\" viewBox=\"0 0 ")
        .append(n * 10)
        .append(" 40\" preserveAspectRatio=\"none\" role=\"img\" aria-label=\"Jobs finished")
        .append(" per minute over the last hour, oldest first\">");
    for (int i = 0; i < n; i++) {
      Overview.Minute m = o.lastHour().get(i);
      if (m.finished() == 0) {
        continue;
      }
      double h = 40.0 * m.finished() / max;
      double hd = 40.0 * m.dead() / max;
      String title = time(m.start()) + ": " + m.finished() + " finished, " + m.dead() + " DEAD";
      b.append("<g><title>")
          .append(text(title))
          .append("</title>")
          .append(rect(i * 10 + 1, 40 - h, 8, h - hd, "bar"))
          .append(hd > 0 ? rect(i * 10 + 1, 40 - hd, 8, hd, "bar dead") : "")
          .append("</g>");
    }
    b.append("</svg></section>");
    return b.toString();
  }

  private static String rect(double x, double y, double w, double h, String cls) {
    return String.format(
        java.util.Locale.ROOT,
        "<rect class=\"%s\" x=\"%.1f\" y=\"%.2f\" width=\"%.1f\" height=\"%.2f\"/>",
        cls,
        x,
        y,
        w,
        h);
  }

  public static String jobs(
      JobFilter filter,
      List<String> pools,
      CursorPage<JobSummary> page,
      String cursor,
      boolean windowEnded,
      String notice,
      Viewer viewer) {
    StringBuilder b = new StringBuilder("<h1>Jobs</h1>");
    if (notice != null) {
      b.append("<p class=\"notice\" role=\"status\">").append(text(notice)).append("</p>");
    }
    b.append("<form method=\"get\" action=\"")
        .append(BASE)
        .append("/jobs/search\" class=\"search\" role=\"search\">")
        .append("<label for=\"q\">Job id or idempotency key</label>")
        .append("<input id=\"q\" name=\"q\" required>")
        .append("<button type=\"submit\">Find</button></form>");
    b.append("<form method=\"get\" action=\"")
        .append(BASE)
        .append("/jobs\" class=\"filter\"><fieldset><legend>Filter</legend>")
        .append("<label for=\"state\">State</label><select id=\"state\" name=\"state\">")
        .append("<option value=\"\">any</option>");
    for (JobState s : JobState.values()) {
      b.append("<option")
          .append(s.name().equals(filter.state()) ? " selected" : "")
          .append(">")
          .append(s)
          .append("</option>");
    }
    b.append("</select>")
        .append("<label for=\"type\">Type</label><input id=\"type\" name=\"type\" value=\"")
        .append(text(filter.type()))
        .append("\">")
        .append("<label for=\"key\">Ordering key</label><input id=\"key\" name=\"key\" value=\"")
        .append(text(filter.key()))
        .append("\">")
        .append(
            "<label for=\"pool\">Pool (dispatched to)</label><select id=\"pool\" name=\"pool\">")
        .append("<option value=\"\">any</option>");
    for (String pool : pools) {
      b.append("<option")
          .append(pool.equals(filter.pool()) ? " selected" : "")
          .append(">")
          .append(text(pool))
          .append("</option>");
    }
    b.append("</select><label for=\"within\">Submitted within</label>")
        .append("<select id=\"within\" name=\"within\"><option value=\"\">any time</option>");
    for (Duration window : JobFilter.WINDOWS) {
      b.append("<option value=\"")
          .append(window)
          .append("\"")
          .append(window.equals(filter.within()) ? " selected" : "")
          .append(">the last ")
          .append(text(window(window)))
          .append("</option>");
    }
    b.append("</select>")
        .append("<label for=\"from\">Submitted from (UTC)</label>")
        .append("<input id=\"from\" name=\"from\" placeholder=\"2026-12-01T20:00\" value=\"")
        .append(text(filter.from() == null ? null : filter.from().toString()))
        .append("\"><label for=\"to\">to (UTC)</label>")
        .append("<input id=\"to\" name=\"to\" placeholder=\"2026-12-01T21:00\" value=\"")
        .append(text(filter.to() == null ? null : filter.to().toString()))
        .append("\"><button type=\"submit\">Apply</button></fieldset></form>");
    if (windowEnded) {
      // a filter no index answers reads a bounded window of jobs per page (ADR 42)
      b.append(
          "<p class=\"notice\" id=\"window-ended\" role=\"status\">This page read the next"
              + " 1,000 jobs and found fewer matches than a page; Next page reads on.</p>");
    }
    // the API's listing is by its index: submission, or when the job entered the state asked for
    b.append("<table id=\"jobs\"><caption>")
        .append(
            filter.state() == null
                ? "Newest first"
                : "Latest to enter " + text(filter.state()) + " first")
        .append("</caption>");
    b.append(
        "<thead><tr><th scope=\"col\">Id</th>"
            + "<th scope=\"col\">Type</th><th scope=\"col\">State</th>"
            + "<th scope=\"col\">Attempt</th><th scope=\"col\">Submitted</th></tr></thead><tbody>");
    for (JobSummary j : page.rows()) {
      b.append("<tr data-job=\"")
          .append(text(j.id()))
          .append("\"><td><a href=\"")
          .append(BASE)
          .append("/jobs/")
          .append(url(j.id()))
          .append("\">")
          .append(text(j.id()))
          .append("</a></td><td>")
          .append(text(j.type()))
          .append("</td><td><span class=\"state state-")
          .append(j.state())
          .append("\">")
          .append(j.state())
          .append("</span></td><td>")
          .append(j.attempt())
          .append("</td><td>")
          .append(time(j.submittedAt()))
          .append("</td></tr>");
    }
    if (page.rows().isEmpty()) {
      b.append("<tr><td colspan=\"5\">No jobs match.</td></tr>");
    }
    b.append("</tbody></table><nav class=\"pages\" aria-label=\"Pages\">");
    if (cursor != null && !cursor.isBlank()) {
      b.append("<a href=\"")
          .append(BASE)
          .append("/jobs?")
          .append(filter.query())
          .append("\">First page</a> ");
    }
    if (page.next() != null) {
      b.append("<a rel=\"next\" id=\"next-page\" href=\"")
          .append(BASE)
          .append("/jobs?after=")
          .append(url(page.next()))
          .append(filter.query())
          .append("\">Next page</a>");
    }
    b.append("</nav>");
    return layout("Jobs", viewer, b.toString(), true);
  }

  public static String job(
      JobView job, Timeline timeline, JobActions actions, String notice, Viewer viewer) {
    StringBuilder b = new StringBuilder();
    b.append("<h1>Job <code>").append(text(job.id())).append("</code></h1>");
    if (notice != null) {
      b.append("<p class=\"notice\" role=\"status\">").append(text(notice)).append("</p>");
    }
    if (actions.cancel() || actions.redriveRecordId() != null || actions.retryNow()) {
      b.append("<div class=\"actions\">");
      if (actions.retryNow()) {
        b.append("<a class=\"button\" id=\"retry-now\" href=\"")
            .append(BASE)
            .append("/jobs/")
            .append(url(job.id()))
            .append("/retry-now\">Retry now…</a>");
      }
      if (actions.cancel()) {
        b.append("<a class=\"button\" id=\"cancel\" href=\"")
            .append(BASE)
            .append("/jobs/")
            .append(url(job.id()))
            .append("/cancel\">Cancel…</a>");
      }
      if (actions.redriveRecordId() != null) {
        b.append("<a class=\"button\" id=\"redrive\" href=\"")
            .append(BASE)
            .append("/dead/")
            .append(url(actions.redriveRecordId()))
            .append("/redrive\">Redrive…</a>");
      }
      b.append("</div>");
    }
    b.append("<dl class=\"facts\">")
        .append(
            fact(
                "State",
                "<span id=\"job-state\" class=\"state state-"
                    + job.state()
                    + "\">"
                    + job.state()
                    + "</span>"))
        .append(fact("Type", text(job.type())))
        .append(fact("Pool", text(job.pool())))
        .append(fact("Attempt", job.attempt() + " of " + job.maxAttempts()))
        .append(fact("Submitted", time(job.submittedAt())));
    if (job.notBefore() != null) {
      b.append(fact("Not before", time(job.notBefore())));
    }
    if (job.finishedAt() != null) {
      b.append(fact("Finished", time(job.finishedAt())));
    }
    if (actions.nextAttemptAt() != null) {
      b.append(
          fact(
              "Next attempt",
              "<span id=\"next-attempt\">" + time(actions.nextAttemptAt()) + "</span>"));
    }
    if (job.workerId() != null) {
      b.append(fact("Worker", text(job.workerId())));
    }
    if (job.progressPercent() != null || job.progressMessage() != null) {
      int percent = job.progressPercent() == null ? 0 : job.progressPercent();
      b.append(
          fact(
              "Progress",
              "<progress id=\"progress\" max=\"100\" value=\""
                  + percent
                  + "\">"
                  + percent
                  + " %</progress> "
                  + percent
                  + " % "
                  + text(job.progressMessage())));
    }
    if (job.idempotencyKey() != null) {
      b.append(fact("Idempotency key", text(job.idempotencyKey())));
    }
    if (job.orderingKey() != null) {
      b.append(
          fact(
              "Ordering key",
              "<a href=\""
                  + BASE
                  + "/jobs?key="
                  + url(job.orderingKey())
                  + "\">"
                  + text(job.orderingKey())
                  + "</a>"));
    }
    if (job.concurrencyKey() != null) {
      b.append(fact("Concurrency key", text(job.concurrencyKey())));
    }
    if (job.traceId() != null) {
      b.append(fact("Trace id", "<code id=\"trace-id\">" + text(job.traceId()) + "</code>"));
    }
    if (job.tenant() != null) {
      b.append(fact("Tenant", text(job.tenant())));
    }
    if (job.tasks() != null && !job.tasks().isEmpty()) {
      b.append(fact("Ran on", tasks(job.tasks())));
    }
    if (job.cancelledBy() != null) {
      b.append(fact("Cancelled by", text(job.cancelledBy()) + " at " + time(job.cancelledAt())));
    }
    if (job.lastError() != null) {
      b.append(fact("Last error", "<pre id=\"last-error\">" + text(job.lastError()) + "</pre>"));
    }
    b.append("</dl>");
    b.append(timeline(timeline));
    b.append(
            "<section aria-labelledby=\"h-payload\"><h2 id=\"h-payload\">Payload</h2><pre id=\"payload\">")
        .append(
            text(
                job.payload() == null
                    ? ""
                    : Json.mapper()
                        .writerWithDefaultPrettyPrinter()
                        .writeValueAsString(job.payload())))
        .append("</pre></section>");
    b.append("<section aria-labelledby=\"h-history\"><h2 id=\"h-history\">History</h2>")
        .append(
            "<table id=\"history\"><thead><tr><th scope=\"col\">At</th><th scope=\"col\">From</th>"
                + "<th scope=\"col\">To</th><th scope=\"col\">Event</th>"
                + "<th scope=\"col\">Attempt</th><th scope=\"col\">Worker</th>");
    if (viewer.admin()) {
      b.append("<th scope=\"col\">Token</th>");
    }
    b.append("<th scope=\"col\">Reason</th></tr></thead><tbody>");
    for (TransitionRecord h : job.history() == null ? List.<TransitionRecord>of() : job.history()) {
      b.append("<tr><td>")
          .append(time(h.at()))
          .append("</td><td>")
          .append(text(h.from()))
          .append("</td><td>")
          .append(text(h.to()))
          .append("</td><td>")
          .append(text(h.event()))
          .append("</td><td>")
          .append(h.attempt())
          .append("</td><td>")
          .append(text(h.workerId()))
          .append("</td>");
      if (viewer.admin()) {
        b.append("<td>").append(text(h.fencingToken())).append("</td>");
      }
      b.append("<td>").append(text(h.reason())).append("</td></tr>");
    }
    b.append("</tbody></table></section>");
    return layout("Job " + job.id(), viewer, b.toString(), true);
  }

  /**
   * Where each attempt ran (ADR 45): its distributor, its task (admins only: the token may hold the
   * fencing token) and a link to the task when its info URL is an http(s) one.
   */
  static String tasks(List<AttemptTask> tasks) {
    StringBuilder b = new StringBuilder("<ul id=\"tasks\">");
    for (AttemptTask t : tasks) {
      b.append("<li>attempt ").append(t.attempt()).append(" · ").append(text(t.distributor()));
      if (t.task() != null) {
        b.append(" · <code>").append(text(t.task())).append("</code>");
      }
      String url = t.infoUrl();
      if (url != null && (url.startsWith("https://") || url.startsWith("http://"))) {
        b.append(" · <a href=\"").append(text(url)).append("\">details</a>");
      }
      b.append("</li>");
    }
    return b.append("</ul>").toString();
  }

  /** The phases as bars on a time axis; a table of the same numbers for reading without CSS. */
  static String timeline(Timeline t) {
    StringBuilder b =
        new StringBuilder("<section aria-labelledby=\"h-phases\"><h2 id=\"h-phases\">Phases</h2>");
    if (t.bars().isEmpty()) {
      return b.append("<p id=\"no-phases\">No phase has started.</p></section>").toString();
    }
    b.append("<p class=\"axis\"><span>0</span><span>")
        .append(text(duration(t.span())))
        .append("</span></p><ol id=\"timeline\" class=\"timeline\">");
    for (Timeline.Bar bar : t.bars()) {
      String label =
          "attempt "
              + bar.attempt()
              + " · "
              + bar.name()
              + " · "
              + duration(bar.duration())
              + (bar.open() ? " (running)" : "");
      b.append("<li class=\"phase\" data-phase=\"")
          .append(text(bar.name()))
          .append("\"><span class=\"phase-name\">")
          .append(text(label))
          .append("</span><svg class=\"track\" viewBox=\"0 0 100 1\" preserveAspectRatio=\"none\"")
          .append(" aria-hidden=\"true\" focusable=\"false\"><rect class=\"bar")
          .append(bar.open() ? " open" : "")
          .append(" attempt-")
          .append(bar.attempt() % 4)
          .append("\" x=\"")
          .append(String.format(Locale.ROOT, "%.2f", bar.offsetPercent()))
          .append("\" y=\"0\" height=\"1\" width=\"")
          .append(String.format(Locale.ROOT, "%.2f", bar.widthPercent()))
          .append("\"></rect></svg></li>");
    }
    return b.append("</ol></section>").toString();
  }

  public static String dead(List<DeadRow> rows, String notice, Viewer viewer) {
    StringBuilder b = new StringBuilder("<h1>Dead jobs</h1>");
    if (notice != null) {
      b.append("<p class=\"notice\" role=\"status\">").append(text(notice)).append("</p>");
    }
    boolean anyRedrive = rows.stream().anyMatch(r -> r.redrive() && r.record().jobId() != null);
    boolean anyDiscard = rows.stream().anyMatch(DeadRow::discard);
    boolean bulk = anyRedrive || anyDiscard;
    if (bulk) {
      // a GET to a confirmation page: nothing changes before that page's POST
      b.append("<form method=\"get\" action=\"").append(BASE).append("/dead/bulk\" id=\"bulk\">");
    }
    b.append(
        "<table id=\"dead\"><caption>Newest first</caption><thead><tr>"
            + (bulk ? "<th scope=\"col\"><span class=\"visually-hidden\">Select</span></th>" : "")
            + "<th scope=\"col\">Record</th>"
            + "<th scope=\"col\">Job</th><th scope=\"col\">Type</th><th scope=\"col\">Reason</th>"
            + "<th scope=\"col\">Source</th><th scope=\"col\">Attempts</th><th scope=\"col\">At</th>"
            + "<th scope=\"col\">Raw message</th><th scope=\"col\">Actions</th></tr></thead><tbody>");
    for (DeadRow row : rows) {
      DeadJob r = row.record();
      b.append("<tr data-record=\"")
          .append(text(r.id()))
          .append("\" data-job=\"")
          .append(text(r.jobId()))
          .append("\">");
      if (bulk) {
        b.append("<td>");
        if (row.redrive() || row.discard()) {
          b.append("<input type=\"checkbox\" name=\"ids\" value=\"")
              .append(text(r.id()))
              .append("\" id=\"select-")
              .append(text(r.id()))
              .append("\" aria-label=\"Select record ")
              .append(text(r.id()))
              .append("\">");
        }
        b.append("</td>");
      }
      b.append("<td><code>").append(text(r.id())).append("</code></td><td>");
      if (r.jobId() != null) {
        b.append("<a href=\"")
            .append(BASE)
            .append("/jobs/")
            .append(url(r.jobId()))
            .append("\">")
            .append(text(r.jobId()))
            .append("</a>");
      }
      b.append("</td><td>")
          .append(text(r.type()))
          .append("</td><td>")
          .append(text(r.reason()))
          .append("</td><td>")
          .append(text(r.source()))
          .append("</td><td>")
          .append(r.attempts())
          .append("</td><td>")
          .append(time(r.at()))
          .append("</td><td>");
      if (r.rawMessage() != null) {
        b.append("<details><summary>Show</summary><pre>")
            .append(text(r.rawMessage()))
            .append("</pre></details>");
      }
      b.append("</td><td>");
      if (row.redrive() && r.jobId() != null) {
        b.append("<a class=\"button\" href=\"")
            .append(BASE)
            .append("/dead/")
            .append(url(r.id()))
            .append("/redrive\">Redrive…</a> ");
      }
      if (row.discard()) {
        b.append("<a class=\"button\" href=\"")
            .append(BASE)
            .append("/dead/")
            .append(url(r.id()))
            .append("/discard\">Discard…</a>");
      }
      b.append("</td></tr>");
    }
    if (rows.isEmpty()) {
      b.append("<tr><td colspan=\"9\">No dead jobs.</td></tr>");
    }
    b.append("</tbody></table>");
    if (bulk) {
      b.append("<div class=\"actions\">");
      if (anyRedrive) {
        b.append(
            "<button type=\"submit\" name=\"action\" value=\"redrive\" id=\"bulk-redrive\">"
                + "Redrive selected…</button>");
      }
      if (anyDiscard) {
        b.append(
            "<button type=\"submit\" name=\"action\" value=\"discard\" id=\"bulk-discard\">"
                + "Discard selected…</button>");
      }
      b.append("</div></form>");
    }
    return layout("Dead jobs", viewer, b.toString(), true);
  }

  /** The workers; null when the viewer may not list them (administrators only). */
  public static String workers(List<WorkerView> workers, Instant now, Viewer viewer) {
    StringBuilder b = new StringBuilder("<h1>Workers</h1>");
    if (workers == null) {
      b.append("<p>Workers are listed for administrators (admin on every type) only.</p>");
      return layout("Workers", viewer, b.toString(), true);
    }
    b.append(
        "<table id=\"workers\"><thead><tr><th scope=\"col\">Id</th><th scope=\"col\">Pool</th>"
            + "<th scope=\"col\">Pod</th><th scope=\"col\">Host</th><th scope=\"col\">Capacity</th>"
            + "<th scope=\"col\">Running</th><th scope=\"col\">State</th>"
            + "<th scope=\"col\">Last heartbeat</th><th scope=\"col\">Version</th></tr></thead><tbody>");
    for (WorkerView w : workers) {
      b.append("<tr><td><code>")
          .append(text(w.id()))
          .append("</code></td><td>")
          .append(text(w.pool()))
          .append("</td><td>")
          .append(text(w.podName()))
          .append("</td><td>")
          .append(text(w.host()))
          .append("</td><td>")
          .append(w.capacity())
          .append("</td><td>")
          .append(w.leases() == null ? "" : w.leases())
          .append("</td><td><span class=\"worker-")
          .append(text(w.state()))
          .append("\">")
          .append(text(w.state()))
          .append("</span></td><td>")
          .append(time(w.lastHeartbeat()));
      if (w.lastHeartbeat() != null) {
        b.append(" (")
            .append(text(duration(Duration.between(w.lastHeartbeat(), now))))
            .append(" ago)");
      }
      b.append("</td><td>").append(text(w.version())).append("</td></tr>");
    }
    if (workers.isEmpty()) {
      b.append("<tr><td colspan=\"9\">No worker is registered.</td></tr>");
    }
    b.append("</tbody></table>");
    return layout("Workers", viewer, b.toString(), true);
  }

  /** The confirmation of one action on several dead-job records. */
  public static String confirmBulk(Bulk action, List<String> ids, Viewer viewer) {
    String title =
        (action == Bulk.REDRIVE ? "Redrive " : "Discard ")
            + ids.size()
            + (ids.size() == 1 ? " dead job" : " dead jobs");
    StringBuilder b = new StringBuilder("<h1>").append(text(title)).append("</h1>");
    b.append("<form method=\"post\" action=\"")
        .append(BASE)
        .append("/dead/bulk\" class=\"confirm\">")
        .append(viewer.csrfField())
        .append("<input type=\"hidden\" name=\"action\" value=\"")
        .append(action.word())
        .append("\"><p>")
        .append(
            action == Bulk.REDRIVE
                ? "Put the jobs of these records back for one more attempt?"
                : "Discard these records? They are kept among the discarded.")
        .append("</p><ul>");
    for (String id : ids) {
      b.append("<li><code>")
          .append(text(id))
          .append("</code><input type=\"hidden\" name=\"ids\" value=\"")
          .append(text(id))
          .append("\"></li>");
    }
    b.append("</ul><button type=\"submit\" id=\"confirm\" class=\"danger\">")
        .append(action == Bulk.REDRIVE ? "Redrive" : "Discard")
        .append(" ")
        .append(ids.size())
        .append("</button> <a href=\"")
        .append(BASE)
        .append("/dead\">Go back</a></form>");
    return layout(title, viewer, b.toString(), true);
  }

  /** The topology's queues; null when the viewer may not see them (administrators only). */
  public static String queues(List<QueueRow> queues, Viewer viewer) {
    StringBuilder b = new StringBuilder("<h1>Queues</h1>");
    if (queues == null) {
      b.append("<p>Queues are shown to administrators (admin on every type) only.</p>");
      return layout("Queues", viewer, b.toString(), true);
    }
    b.append(
        "<table id=\"queues\"><thead><tr><th scope=\"col\">Queue</th>"
            + "<th scope=\"col\">Messages</th><th scope=\"col\">Consumers</th></tr></thead><tbody>");
    for (QueueRow q : queues) {
      b.append("<tr data-queue=\"")
          .append(text(q.name()))
          .append("\"><th scope=\"row\"><code>")
          .append(text(q.name()))
          .append("</code></th><td>")
          .append(q.messages() == null ? "unknown" : q.messages().toString())
          .append("</td><td>")
          .append(q.consumers() == null ? "unknown" : q.consumers().toString())
          .append("</td></tr>");
    }
    b.append("</tbody></table>");
    return layout("Queues", viewer, b.toString(), true);
  }

  /**
   * A confirmation before an action: the action happens only when this page's form is posted.
   *
   * @param reason whether the form asks for a reason
   */
  public static String confirm(
      String title,
      String question,
      String action,
      String button,
      boolean reason,
      String back,
      Viewer viewer) {
    StringBuilder b = new StringBuilder("<h1>").append(text(title)).append("</h1>");
    b.append("<form method=\"post\" action=\"")
        .append(text(action))
        .append("\" class=\"confirm\">")
        .append(viewer.csrfField())
        .append("<p>")
        .append(text(question))
        .append("</p>");
    if (reason) {
      b.append("<label for=\"reason\">Reason (kept in the job's history)</label>")
          .append("<input id=\"reason\" name=\"reason\" maxlength=\"200\">");
    }
    b.append("<button type=\"submit\" id=\"confirm\" class=\"danger\">")
        .append(text(button))
        .append("</button> <a href=\"")
        .append(text(back))
        .append("\">Go back</a></form>");
    return layout(title, viewer, b.toString(), true);
  }

  /** A page that only says something: an action refused, a job not found. */
  public static String message(String title, String detail, String back, Viewer viewer) {
    String body =
        "<h1>"
            + text(title)
            + "</h1><p role=\"alert\">"
            + text(detail)
            + "</p><p><a href=\""
            + text(back)
            + "\">Back</a></p>";
    return layout(title, viewer, body, true);
  }

  // ---------------------------------------------------------------- parts

  static String layout(String title, Viewer viewer, String main, boolean nav) {
    StringBuilder b = new StringBuilder(main.length() + 2048);
    b.append("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">")
        .append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">")
        .append("<title>")
        .append(text(title))
        .append(" · Shepherd console</title><link rel=\"stylesheet\" href=\"")
        .append(BASE)
        .append("/console.css\"></head><body>")
        .append(
            "<a class=\"skip\" href=\"#main\">Skip to content</a><header><span class=\"brand\">")
        .append("Shepherd console</span>");
    if (nav) {
      b.append("<nav aria-label=\"Console\"><ul>")
          .append(link("", "Overview"))
          .append(link("/jobs", "Jobs"))
          .append(link("/dead", "Dead jobs"))
          .append(link("/workers", "Workers"))
          .append(link("/queues", "Queues"))
          .append("</ul></nav>");
    }
    if (viewer != null && viewer.name() != null) {
      b.append("<span class=\"who\">").append(text(viewer.name())).append("</span>");
      if (viewer.signedIn()) {
        b.append("<form method=\"post\" action=\"")
            .append(BASE)
            .append("/logout\" class=\"logout\">")
            .append(viewer.csrfField())
            .append("<button type=\"submit\">Sign out</button></form>");
      }
    }
    b.append("</header><main id=\"main\">").append(main).append("</main></body></html>");
    return b.toString();
  }

  private static String link(String path, String label) {
    return "<li><a href=\"" + BASE + path + "\">" + text(label) + "</a></li>";
  }

  private static String fact(String term, String html) {
    return "<div><dt>" + text(term) + "</dt><dd>" + html + "</dd></div>";
  }

  /** A submission window as the filter names it: 15 minutes, hour, 24 hours. */
  static String window(Duration d) {
    if (d.toMinutes() % 60 != 0) {
      return d.toMinutes() + " minutes";
    }
    return d.toHours() == 1 ? "hour" : d.toHours() + " hours";
  }

  /** A duration as an operator reads it: 850 ms, 12.3 s, 4 min 05 s, 2 h 03 min. */
  static String duration(Duration d) {
    if (d == null) {
      return "";
    }
    long ms = Math.max(0, d.toMillis());
    if (ms < 1000) {
      return ms + " ms";
    }
    if (ms < 60_000) {
      return String.format(Locale.ROOT, "%.1f s", ms / 1000.0);
    }
    long s = ms / 1000;
    if (s < 3600) {
      return String.format(Locale.ROOT, "%d min %02d s", s / 60, s % 60);
    }
    return String.format(Locale.ROOT, "%d h %02d min", s / 3600, (s % 3600) / 60);
  }
}
