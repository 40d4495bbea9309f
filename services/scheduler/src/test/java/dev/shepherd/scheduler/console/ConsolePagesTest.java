package dev.shepherd.scheduler.console;

import static org.assertj.core.api.Assertions.assertThat;

import dev.shepherd.model.AttemptTask;
import dev.shepherd.model.DeadJob;
import dev.shepherd.model.JobEvent;
import dev.shepherd.model.JobState;
import dev.shepherd.model.JobSummary;
import dev.shepherd.model.JobView;
import dev.shepherd.model.Json;
import dev.shepherd.model.PhaseView;
import dev.shepherd.model.TransitionRecord;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ConsolePagesTest {

  private static final Instant NOW = Instant.parse("2026-12-01T10:00:00Z");
  private static final Viewer OPERATOR = new Viewer("ops", true, true, true, "_csrf", "tok3n");
  private static final Viewer READER = new Viewer("reader", true, true, false, "_csrf", "tok3n");

  private static JobView job(JobState state, String lastError) {
    return new JobView(
        "p01-job1",
        "site.generate",
        "default",
        state,
        1,
        3,
        Json.mapper().createObjectNode().put("site", "<script>alert(1)</script>"),
        "idem-1",
        null,
        null,
        null,
        NOW,
        null,
        null,
        "w-1",
        50,
        "fetch done",
        lastError,
        null,
        null,
        "4bf92f3577b34da6a3ce929d0e0e4736",
        List.of(new PhaseView(1, "fetch", NOW, NOW.plusMillis(300), 300L)),
        List.of(
            new TransitionRecord(
                NOW, JobState.QUEUED, JobState.RUNNING, JobEvent.CLAIM, 1, null, 7L, "w-1")),
        null,
        null);
  }

  @Test
  void everyValueIsEscaped() {
    String page =
        ConsolePages.job(
            job(JobState.RUNNING, "boom <b>"),
            Timeline.of(List.of(), NOW),
            new ConsolePages.JobActions(false, null),
            null,
            OPERATOR);
    assertThat(page)
        .doesNotContain("<script>alert")
        .contains("&lt;script&gt;alert(1)&lt;/script&gt;");
    assertThat(page).contains("boom &lt;b&gt;");
  }

  @Test
  void aJobPageOffersOnlyTheActionsItIsGiven() {
    JobView running = job(JobState.RUNNING, null);
    String withCancel =
        ConsolePages.job(
            running,
            Timeline.of(running.phases(), NOW),
            new ConsolePages.JobActions(true, null),
            null,
            OPERATOR);
    assertThat(withCancel).contains("id=\"cancel\"").doesNotContain("id=\"redrive\"");
    String none =
        ConsolePages.job(
            running,
            Timeline.of(running.phases(), NOW),
            new ConsolePages.JobActions(false, null),
            null,
            READER);
    assertThat(none).doesNotContain("id=\"cancel\"").doesNotContain("id=\"redrive\"");
  }

  @Test
  void fencingTokensAreAColumnForAdministratorsOnly() {
    JobView running = job(JobState.RUNNING, null);
    var actions = new ConsolePages.JobActions(false, null);
    assertThat(ConsolePages.job(running, Timeline.of(List.of(), NOW), actions, null, OPERATOR))
        .contains(">Token<");
    assertThat(ConsolePages.job(running, Timeline.of(List.of(), NOW), actions, null, READER))
        .doesNotContain(">Token<");
  }

  @Test
  void whereEachAttemptRanIsListedWithALinkOnlyToAnHttpAddress() {
    String html =
        ConsolePages.tasks(
            List.of(
                new AttemptTask(1, "http", "07-a.1.99", "https://svc.example/t?a=1&b=<2>"),
                new AttemptTask(2, "kubernetes-job", null, "javascript:alert(1)")));
    assertThat(html)
        .contains("attempt 1 · http · <code>07-a.1.99</code>")
        .contains("href=\"https://svc.example/t?a=1&amp;b=&lt;2&gt;\"")
        .contains("attempt 2 · kubernetes-job</li>")
        .doesNotContain("javascript:");
  }

  @Test
  void theTimelineDrawsOneBarPerPhaseWithItsDuration() {
    JobView running = job(JobState.RUNNING, null);
    String html = ConsolePages.timeline(Timeline.of(running.phases(), NOW));
    assertThat(html)
        .contains("data-phase=\"fetch\"")
        .contains("attempt 1 · fetch · 300 ms")
        .contains("width=\"100.00\"");
  }

  @Test
  void formsThatChangeSomethingCarryTheCsrfToken() {
    String confirm =
        ConsolePages.confirm(
            "Cancel job",
            "Cancel?",
            "/console/jobs/x/cancel",
            "Cancel",
            true,
            "/console/jobs/x",
            OPERATOR);
    assertThat(confirm).contains("method=\"post\"").contains("name=\"_csrf\" value=\"tok3n\"");
    assertThat(ConsolePages.login(null, OPERATOR)).contains("name=\"_csrf\" value=\"tok3n\"");
  }

  @Test
  void deadRowsOfferRedriveAndDiscardAsGranted() {
    DeadJob record =
        new DeadJob("p01-rec", "p01-job", "demo.poison", "poison payload", "job", 1, NOW, "{}");
    assertThat(
            ConsolePages.dead(
                List.of(new ConsolePages.DeadRow(record, true, true)), null, OPERATOR))
        .contains("/console/dead/p01-rec/redrive")
        .contains("/console/dead/p01-rec/discard");
    assertThat(
            ConsolePages.dead(
                List.of(new ConsolePages.DeadRow(record, false, false)), null, READER))
        .doesNotContain("/redrive\"")
        .doesNotContain("/discard\"");
  }

  @Test
  void severalDeadJobsAreSelectedAndConfirmedBeforeAnythingChanges() {
    DeadJob record =
        new DeadJob("p01-rec", "p01-job", "demo.poison", "poison", "job", 1, NOW, "{}");
    String page =
        ConsolePages.dead(List.of(new ConsolePages.DeadRow(record, false, true)), null, OPERATOR);
    assertThat(page)
        .contains("<form method=\"get\" action=\"/console/dead/bulk\"")
        .contains("name=\"ids\" value=\"p01-rec\"")
        .contains("id=\"bulk-discard\"")
        .doesNotContain("id=\"bulk-redrive\"");
    String confirm =
        ConsolePages.confirmBulk(ConsolePages.Bulk.DISCARD, List.of("p01-a", "p01-b"), OPERATOR);
    assertThat(confirm)
        .contains("<form method=\"post\" action=\"/console/dead/bulk\"")
        .contains("name=\"_csrf\" value=\"tok3n\"")
        .contains("name=\"action\" value=\"discard\"")
        .contains("name=\"ids\" value=\"p01-a\"")
        .contains("name=\"ids\" value=\"p01-b\"");
  }

  @Test
  void queuesTheBrokerWillNotDescribeReadUnknown() {
    String page =
        ConsolePages.queues(
            List.of(
                new ConsolePages.QueueRow("shepherd.work.default", 12L, 2),
                new ConsolePages.QueueRow("shepherd.dead", null, null)),
            OPERATOR);
    assertThat(page).contains("<td>12</td><td>2</td>").contains("<td>unknown</td><td>unknown</td>");
    assertThat(ConsolePages.queues(null, READER)).contains("administrators");
  }

  @Test
  void theJobsPageLinksTheNextPageWithTheFilterKept() {
    var rows = List.of(new JobSummary("p01-a", "demo.noop", JobState.QUEUED, 0, NOW));
    String page =
        ConsolePages.jobs(
            new JobFilter("QUEUED", "demo.noop", null, "default", Duration.ofHours(1)),
            List.of("default", "reports"),
            new CursorPage<>(rows, "p01-a"),
            null,
            false,
            null,
            READER);
    assertThat(page)
        .contains(
            "href=\"/console/jobs?after=p01-a&state=QUEUED&type=demo.noop&pool=default&within=PT1H\"")
        .contains("<option selected>default</option>")
        .contains("<option value=\"PT1H\" selected>the last hour</option>")
        .contains("the last 15 minutes")
        .contains("the last 24 hours");
  }

  @Test
  void theOverviewHidesInstallationWideNumbersFromWhoMayNotSeeThem() {
    Overview all =
        new Overview(
            Map.of(JobState.QUEUED, 3L),
            List.of(new Overview.PoolBacklog("default", 3, NOW.minusSeconds(90))),
            List.of(),
            2,
            0,
            1,
            NOW);
    assertThat(ConsolePages.overviewFragment(all))
        .contains("id=\"count-QUEUED\">3<")
        .contains("1 min 30 s")
        .contains("id=\"keys-down\">1<");
    Overview tenant = new Overview(null, null, null, null, null, null, NOW);
    assertThat(ConsolePages.overviewFragment(tenant))
        .doesNotContain("count-QUEUED")
        .doesNotContain("workers-alive");
  }

  @Test
  void theOverviewShowsTheLastHoursThroughputTheDeadShareAndEachPoolsOldestJob() {
    List<Overview.Minute> hour = new java.util.ArrayList<>();
    for (int m = 0; m < 60; m++) {
      // 3 a minute, one of them DEAD in the last ten minutes
      hour.add(new Overview.Minute(NOW.minusSeconds(60L * (60 - m)), 3, m >= 50 ? 1 : 0, 0));
    }
    Overview o =
        new Overview(
            Map.of(),
            List.of(new Overview.PoolBacklog("default", 1, NOW.minusSeconds(5), "p03-old")),
            hour,
            null,
            null,
            null,
            NOW);

    String fragment = ConsolePages.overviewFragment(o);

    assertThat(fragment)
        .contains("id=\"finished-hour\">190<")
        .contains("id=\"per-minute\">3.2<")
        .contains("4 in the last minute")
        .contains("id=\"dead-share\">5.3 %<")
        .contains("href=\"/console/jobs/p03-old\"")
        .contains("class=\"bar dead\"");
    assertThat(fragment.split("<g><title>", -1)).hasSize(61);
  }

  @Test
  void aJobWaitingForARetryOffersRetryNowAndSaysWhenItIsDue() {
    JobView waiting = job(JobState.RETRY_WAIT, "flaky");
    String page =
        ConsolePages.job(
            waiting,
            Timeline.of(waiting.phases(), NOW),
            new ConsolePages.JobActions(true, null, true, NOW.plusSeconds(300)),
            null,
            OPERATOR);
    assertThat(page)
        .contains("id=\"retry-now\" href=\"/console/jobs/" + waiting.id() + "/retry-now\"")
        .contains("id=\"next-attempt\"");
    assertThat(
            ConsolePages.job(
                waiting,
                Timeline.of(waiting.phases(), NOW),
                new ConsolePages.JobActions(false, null, false, NOW.plusSeconds(300)),
                null,
                READER))
        .doesNotContain("id=\"retry-now\"");
  }

  @Test
  void durationsReadAsAnOperatorSaysThem() {
    assertThat(ConsolePages.duration(Duration.ofMillis(850))).isEqualTo("850 ms");
    assertThat(ConsolePages.duration(Duration.ofMillis(12_340))).isEqualTo("12.3 s");
    assertThat(ConsolePages.duration(Duration.ofSeconds(245))).isEqualTo("4 min 05 s");
    assertThat(ConsolePages.duration(Duration.ofMinutes(123))).isEqualTo("2 h 03 min");
  }
}
