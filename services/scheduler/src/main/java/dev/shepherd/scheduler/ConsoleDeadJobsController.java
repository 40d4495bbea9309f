package dev.shepherd.scheduler;

import static dev.shepherd.scheduler.ConsoleViews.html;
import static dev.shepherd.scheduler.ConsoleViews.redirect;

import dev.shepherd.engine.access.Operation;
import dev.shepherd.scheduler.console.ConsolePages;
import dev.shepherd.scheduler.console.Html;
import dev.shepherd.scheduler.console.Viewer;
import jakarta.servlet.http.HttpServletRequest;
import java.util.List;
import java.util.Optional;
import org.springframework.http.HttpStatus;
import org.springframework.http.ProblemDetail;
import org.springframework.http.ResponseEntity;
import org.springframework.stereotype.Controller;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.ResponseBody;

/**
 * The console's dead jobs (ADR 42): the records the caller may read, and their redrive and discard,
 * one or many, each done by the API's {@link DeadJobsController} behind a confirmation page.
 */
@Controller
@RequestMapping(ConsoleController.BASE)
@ResponseBody
class ConsoleDeadJobsController {

  private static final String BASE = ConsoleController.BASE;

  private final ConsoleViews views;
  private final Access access;
  private final DeadJobsController deadJobs;

  ConsoleDeadJobsController(ConsoleViews views, Access access, DeadJobsController deadJobs) {
    this.views = views;
    this.access = access;
    this.deadJobs = deadJobs;
  }

  @GetMapping("/dead")
  ResponseEntity<String> dead(
      HttpServletRequest request, @RequestParam(required = false) String notice) {
    Viewer viewer = views.viewer(request);
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
            views.viewer(request)));
  }

  @PostMapping("/dead/{id}/redrive")
  ResponseEntity<String> redrive(HttpServletRequest request, @PathVariable String id) {
    ResponseEntity<?> answer = deadJobs.redrive(id, null, null);
    return views.after(request, answer, BASE + "/dead", "Redriven: record " + id + ".");
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
            views.viewer(request)));
  }

  @PostMapping("/dead/{id}/discard")
  ResponseEntity<String> discard(HttpServletRequest request, @PathVariable String id) {
    ResponseEntity<?> answer = deadJobs.discard(id, null, null);
    return views.after(request, answer, BASE + "/dead", "Discarded: record " + id + ".");
  }

  /** Confirms one action on the selected dead-job records (a GET: nothing changes yet). */
  @GetMapping("/dead/bulk")
  ResponseEntity<String> confirmBulk(
      HttpServletRequest request,
      @RequestParam(defaultValue = "") String action,
      @RequestParam(required = false) List<String> ids) {
    Viewer viewer = views.viewer(request);
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
              views.viewer(request)));
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
}
