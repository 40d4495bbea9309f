package dev.shepherd.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.shepherd.client.ShepherdClient;
import dev.shepherd.model.JobEvent;
import dev.shepherd.model.JobState;
import dev.shepherd.model.JobSubmission;
import dev.shepherd.model.JobView;
import dev.shepherd.model.Json;
import dev.shepherd.model.TransitionRecord;
import dev.shepherd.testsupport.ServiceEndpoints;
import dev.shepherd.testsupport.TestApiKeys;
import dev.shepherd.testsupport.TestNames;
import dev.shepherd.testsupport.WithRealServices;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.Keys;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.support.ui.Select;

/**
 * The operators' console in a real browser (issue 19): Debian's chromium, headless, against the
 * four services and a worker, each its own process, on the real broker and Redis. An operator signs
 * in with a key, watches the overview count jobs live, reads a job's phases, cancels a running job,
 * redrives a dead one and filters the list; a reader sees the same pages without one action. The
 * screenshots it takes are the ones in the README and docs/OPERATIONS.md.
 */
@WithRealServices
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ConsoleIT {

  private static final String READER = "console-reader";
  private static final String READER_KEY = "shepherd-console-reader-7c41e2b9";
  private static final Duration WAIT = Duration.ofSeconds(60);

  private E2eSupport e2e;
  private ShepherdClient client;
  private ChromeDriver browser;
  private Path profile;
  private URI base;
  private final List<String> noops = new ArrayList<>();

  @BeforeAll
  void start(ServiceEndpoints endpoints, TestNames names) throws Exception {
    Chromium.requireInstalled();
    e2e =
        new E2eSupport(
            endpoints,
            names.prefix(),
            1,
            Map.of(
                // a reader of every tenant: sees every page, may do nothing (ADR 40)
                "shepherd.security.api-keys[1].name", READER,
                "shepherd.security.api-keys[1].sha256", TestApiKeys.sha256(READER_KEY),
                "shepherd.security.api-keys[1].tenant", "*",
                "shepherd.security.grants[1].principals[0]", READER,
                "shepherd.security.grants[1].types[0]", "*",
                "shepherd.security.grants[1].operations[0]", "read",
                "shepherd.worker.cancel-grace", "2s",
                // a retry waits up to 30 days (full jitter): only retry-now brings it back soon
                "shepherd.store.retry-initial-backoff", "P30D",
                "shepherd.store.retry-max-backoff", "P30D"));
    client = e2e.cluster.client().amqpUri(endpoints.rabbitmq()).prefix(names.prefix()).build();
    base = e2e.cluster.schedulerUri();
    profile = Files.createTempDirectory("shepherd-console-chromium");
    browser = Chromium.start(profile);
    browser.manage().timeouts().pageLoadTimeout(Duration.ofSeconds(30));
  }

  @AfterAll
  void stop() throws Exception {
    if (browser != null) {
      browser.quit();
    }
    if (client != null) {
      client.close();
    }
    if (e2e != null) {
      e2e.close();
    }
    if (profile != null) {
      try (Stream<Path> files = Files.walk(profile)) {
        files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
    }
  }

  @Test
  @Order(1)
  void anOperatorSignsInAndWatchesTheOverviewCountJobsLiveWithoutAReload() throws Exception {
    open("/console");
    assertThat(browser.getCurrentUrl()).as("not signed in yet").endsWith("/console/login");
    signIn(TestApiKeys.ADMIN_KEY);
    assertThat(browser.findElement(By.cssSelector("header .who")).getText())
        .isEqualTo(TestApiKeys.ADMIN);
    assertThat(text("count-SUCCEEDED")).isEqualTo("0");
    // the keyboard's first stop is the link past the navigation, and it shows where focus is
    browser.findElement(By.tagName("body")).sendKeys(Keys.TAB);
    assertThat(browser.switchTo().activeElement().getAttribute("class")).isEqualTo("skip");
    assertThat(js("return getComputedStyle(document.activeElement).outlineStyle"))
        .isNotEqualTo("none");
    // a mark on this page: a reload would lose it
    js("window.shepherdConsoleIT = 'same page';");
    for (int i = 0; i < 5; i++) {
      noops.add(
          client
              .submit(JobSubmission.of("demo.noop", Json.mapper().createObjectNode().put("n", i)))
              .jobId());
    }
    await("the overview counts the five jobs SUCCEEDED")
        .atMost(WAIT)
        .pollInterval(Duration.ofMillis(200))
        .until(() -> "5".equals(text("count-SUCCEEDED")));
    assertThat(js("return window.shepherdConsoleIT")).as("updated in place").isEqualTo("same page");
    assertThat(js("return document.getElementById('overview-live').getAttribute('data-updates')"))
        .as("server-sent events applied by overview.js")
        .isNotNull();
    assertThat(text("workers-alive")).isEqualTo("1");
    await("the last hour counts the five finished jobs")
        .atMost(WAIT)
        .pollInterval(Duration.ofMillis(200))
        .until(() -> "5".equals(text("finished-hour")));
    assertThat(text("dead-share")).isEqualTo("0.0 %");
    screenshot("overview");
  }

  @Test
  @Order(2)
  void aJobsPageDrawsEachPhaseAsABarWithItsProgressAndHistory() throws Exception {
    String id =
        client
            .submit(
                JobSubmission.of(
                    "site.generate",
                    Json.mapper()
                        .createObjectNode()
                        .put("site", "console.example")
                        .put("phaseMillis", 300)))
            .jobId();
    awaitState(id, JobState.SUCCEEDED);
    open("/console/jobs/" + id);
    assertThat(text("job-state")).isEqualTo("SUCCEEDED");
    List<String> phases =
        browser.findElements(By.cssSelector("#timeline li.phase")).stream()
            .map(li -> li.getAttribute("data-phase"))
            .toList();
    assertThat(phases).containsExactly("bug_list_download", "dashboard_render", "publish");
    List<WebElement> bars = browser.findElements(By.cssSelector("#timeline rect.bar"));
    assertThat(bars).hasSize(3);
    // one axis: the bars follow one another from left to right
    double first = Double.parseDouble(bars.get(0).getAttribute("x"));
    double last = Double.parseDouble(bars.get(2).getAttribute("x"));
    assertThat(first).isLessThan(last);
    assertThat(browser.findElement(By.id("progress")).getAttribute("value")).isEqualTo("100");
    assertThat(browser.findElement(By.id("history")).getText()).contains("RUNNING", "SUCCEEDED");
    assertThat(browser.findElement(By.id("payload")).getText()).contains("console.example");
    assertThat(browser.findElements(By.id("cancel"))).as("nothing to cancel").isEmpty();
    screenshot("job");
  }

  @Test
  @Order(3)
  void anOperatorCancelsARunningJobAfterConfirming() throws Exception {
    String id =
        client
            .submit(
                JobSubmission.of(
                    "site.generate",
                    Json.mapper()
                        .createObjectNode()
                        .put("site", "slow.example")
                        .put("phaseMillis", 600_000)))
            .jobId();
    awaitState(id, JobState.RUNNING);
    open("/console/jobs/" + id);
    assertThat(text("job-state")).isEqualTo("RUNNING");
    load(browser.findElement(By.id("cancel")));
    assertThat(browser.getTitle()).startsWith("Cancel job");
    assertThat(stateOf(id))
        .as("nothing happens before the confirmation")
        .isEqualTo(JobState.RUNNING);
    browser.findElement(By.id("reason")).sendKeys("stuck at 3 a.m.");
    screenshot("confirm");
    load(browser.findElement(By.id("confirm")));
    assertThat(notice()).isEqualTo("Cancelled.");
    assertThat(text("job-state")).isEqualTo("CANCELLED");
    JobView job = client.get(id).orElseThrow();
    assertThat(job.cancelledBy()).isEqualTo(TestApiKeys.ADMIN);
    assertThat(job.history().getLast().reason()).contains("stuck at 3 a.m.");
  }

  @Test
  @Order(4)
  void anOperatorRedrivesADeadJobFromTheDeadJobsPage() throws Exception {
    String id =
        client.submit(JobSubmission.of("demo.poison", Json.mapper().createObjectNode())).jobId();
    awaitState(id, JobState.DEAD);
    open("/console/dead");
    WebElement row = await().atMost(WAIT).until(() -> deadRow(id), r -> r != null);
    assertThat(row.getText()).contains("demo.poison", "poison payload");
    screenshot("dead");
    load(row.findElement(By.linkText("Redrive…")));
    load(browser.findElement(By.id("confirm")));
    assertThat(notice()).startsWith("Redriven");
    await("the job is put back and runs again")
        .atMost(WAIT)
        .pollInterval(Duration.ofMillis(200))
        .until(
            () ->
                client.get(id).orElseThrow().history().stream()
                    .map(TransitionRecord::event)
                    .anyMatch(e -> e == JobEvent.REDRIVE));
    TransitionRecord redrive =
        client.get(id).orElseThrow().history().stream()
            .filter(h -> h.event() == JobEvent.REDRIVE)
            .findFirst()
            .orElseThrow();
    assertThat(redrive.reason()).contains(TestApiKeys.ADMIN);
    awaitState(id, JobState.DEAD);
  }

  @Test
  @Order(5)
  void anOperatorDiscardsSeveralDeadJobsAtOnce() throws Exception {
    List<String> dead = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      dead.add(
          client
              .submit(JobSubmission.of("demo.poison", Json.mapper().createObjectNode().put("n", i)))
              .jobId());
    }
    for (String id : dead) {
      awaitState(id, JobState.DEAD);
    }
    open("/console/dead");
    for (String id : dead) {
      await().atMost(WAIT).until(() -> deadRow(id), r -> r != null);
    }
    for (String id : dead) {
      browser
          .findElement(By.cssSelector("#dead tr[data-job='" + id + "'] input[name=ids]"))
          .click();
    }
    load(browser.findElement(By.id("bulk-discard")));
    assertThat(browser.getTitle()).startsWith("Discard 3 dead jobs");
    load(browser.findElement(By.id("confirm")));
    assertThat(notice()).isEqualTo("Discarded: 3 of 3.");
    for (String id : dead) {
      assertThat(browser.findElements(By.cssSelector("#dead tr[data-job='" + id + "']")))
          .as("record of %s", id)
          .isEmpty();
    }
    assertThat(client.deadJobs(1000)).noneMatch(r -> dead.contains(r.jobId()));
  }

  @Test
  @Order(5)
  void anOperatorRetriesAJobWaitingOutItsBackoffFromItsPage() throws Exception {
    String id =
        client
            .submit(
                JobSubmission.of(
                        "demo.flaky",
                        Json.mapper()
                            .createObjectNode()
                            .put("failFirstAttempts", 1)
                            .put("failureProbability", 0.0))
                    .withMaxAttempts(3))
            .jobId();
    awaitState(id, JobState.RETRY_WAIT);
    open("/console/jobs/" + id);
    assertThat(text("job-state")).isEqualTo("RETRY_WAIT");
    assertThat(text("next-attempt")).isNotBlank();
    load(browser.findElement(By.id("retry-now")));
    assertThat(browser.getTitle()).startsWith("Retry job now");
    assertThat(stateOf(id))
        .as("nothing happens before the confirmation")
        .isEqualTo(JobState.RETRY_WAIT);
    load(browser.findElement(By.id("confirm")));
    assertThat(notice()).isEqualTo("Due now: it is retried.");
    // its backoff was up to 30 days: only the button brings its second attempt now
    awaitState(id, JobState.SUCCEEDED);
    assertThat(client.get(id).orElseThrow().attempt()).isEqualTo(2);
  }

  @Test
  @Order(5)
  void anOperatorRedrivesADeadJobFromItsOwnPage() throws Exception {
    String id =
        client.submit(JobSubmission.of("demo.poison", Json.mapper().createObjectNode())).jobId();
    awaitState(id, JobState.DEAD);
    open("/console/jobs/" + id);
    await("the job's dead-job record is listed")
        .atMost(WAIT)
        .until(
            () -> {
              browser.navigate().refresh();
              return !browser.findElements(By.id("redrive")).isEmpty();
            });
    load(browser.findElement(By.id("redrive")));
    load(browser.findElement(By.id("confirm")));
    assertThat(notice()).startsWith("Redriven");
    await("the job is put back")
        .atMost(WAIT)
        .pollInterval(Duration.ofMillis(200))
        .until(() -> redriven(id));
  }

  @Test
  @Order(5)
  void anOperatorDiscardsOneDeadJob() throws Exception {
    String id =
        client.submit(JobSubmission.of("demo.poison", Json.mapper().createObjectNode())).jobId();
    awaitState(id, JobState.DEAD);
    open("/console/dead");
    WebElement row = await().atMost(WAIT).until(() -> deadRow(id), r -> r != null);
    load(row.findElement(By.linkText("Discard…")));
    load(browser.findElement(By.id("confirm")));
    assertThat(notice()).startsWith("Discarded");
    assertThat(browser.findElements(By.cssSelector("#dead tr[data-job='" + id + "']"))).isEmpty();
    assertThat(client.deadJobs(1000)).noneMatch(r -> id.equals(r.jobId()));
  }

  @Test
  @Order(5)
  void anOperatorRedrivesSeveralDeadJobsAtOnce() throws Exception {
    List<String> dead = new ArrayList<>();
    for (int i = 0; i < 2; i++) {
      dead.add(
          client
              .submit(JobSubmission.of("demo.poison", Json.mapper().createObjectNode().put("r", i)))
              .jobId());
    }
    for (String id : dead) {
      awaitState(id, JobState.DEAD);
    }
    open("/console/dead");
    for (String id : dead) {
      await().atMost(WAIT).until(() -> deadRow(id), r -> r != null);
    }
    for (String id : dead) {
      browser
          .findElement(By.cssSelector("#dead tr[data-job='" + id + "'] input[name=ids]"))
          .click();
    }
    load(browser.findElement(By.id("bulk-redrive")));
    assertThat(browser.getTitle()).startsWith("Redrive 2 dead jobs");
    load(browser.findElement(By.id("confirm")));
    assertThat(notice()).isEqualTo("Redriven: 2 of 2.");
    for (String id : dead) {
      await(id + " redriven").atMost(WAIT).until(() -> redriven(id));
    }
  }

  @Test
  @Order(6)
  void theJobListFiltersByStateAndTypeAndFindsAJobById() throws Exception {
    open("/console/jobs");
    assertThat(
            js(
                "return Array.from(document.querySelectorAll('main input:not([type=hidden]),"
                    + " main select')).filter(e => e.labels.length === 0).map(e => e.id)"))
        .as("every field of the jobs page has a label")
        .asInstanceOf(org.assertj.core.api.InstanceOfAssertFactories.LIST)
        .isEmpty();
    new Select(browser.findElement(By.id("state"))).selectByVisibleText("SUCCEEDED");
    browser.findElement(By.id("type")).sendKeys("demo.noop");
    new Select(browser.findElement(By.id("pool"))).selectByVisibleText("default");
    new Select(browser.findElement(By.id("within"))).selectByVisibleText("the last hour");
    load(browser.findElement(By.cssSelector("form.filter button")));
    assertThat(browser.getCurrentUrl())
        .contains("state=SUCCEEDED", "type=demo.noop", "pool=default", "within=PT1H");
    List<WebElement> rows = browser.findElements(By.cssSelector("#jobs tbody tr[data-job]"));
    assertThat(rows)
        .extracting(r -> r.getAttribute("data-job"))
        .containsExactlyInAnyOrderElementsOf(noops);
    for (WebElement r : rows) {
      assertThat(r.getText()).contains("demo.noop", "SUCCEEDED");
    }
    screenshot("jobs");
    // the same rows two at a time, page after page by the cursor of the last row
    open("/console/jobs?state=SUCCEEDED&type=demo.noop&size=2");
    List<String> paged = new ArrayList<>();
    for (int pageNo = 1; ; pageNo++) {
      List<WebElement> page = browser.findElements(By.cssSelector("#jobs tbody tr[data-job]"));
      assertThat(page).as("page %d", pageNo).hasSizeBetween(1, 2);
      page.forEach(r -> paged.add(r.getAttribute("data-job")));
      List<WebElement> next = browser.findElements(By.id("next-page"));
      if (next.isEmpty()) {
        break;
      }
      load(next.getFirst());
    }
    assertThat(paged).as("every row once, in the listing's order").doesNotHaveDuplicates();
    assertThat(paged).containsExactlyInAnyOrderElementsOf(noops);
    // a submission range: from before the first no-op holds them all, from tomorrow none
    java.time.Instant submitted = client.get(noops.getFirst()).orElseThrow().submittedAt();
    open(
        "/console/jobs?state=SUCCEEDED&type=demo.noop&from="
            + submitted.minusSeconds(1)
            + "&to="
            + java.time.Instant.now().plusSeconds(60));
    assertThat(browser.findElements(By.cssSelector("#jobs tbody tr[data-job]")))
        .extracting(r -> r.getAttribute("data-job"))
        .containsExactlyInAnyOrderElementsOf(noops);
    open(
        "/console/jobs?type=demo.noop&from="
            + java.time.LocalDateTime.now(java.time.ZoneOffset.UTC).plusDays(1).withNano(0));
    assertThat(browser.findElements(By.cssSelector("#jobs tbody tr[data-job]"))).isEmpty();
    open("/console/jobs");
    new Select(browser.findElement(By.id("state"))).selectByVisibleText("CANCELLED");
    load(browser.findElement(By.cssSelector("form.filter button")));
    assertThat(browser.findElements(By.cssSelector("#jobs tbody tr[data-job]")))
        .singleElement()
        .satisfies(r -> assertThat(r.getText()).contains("site.generate", "CANCELLED"));
    browser.findElement(By.id("q")).sendKeys(noops.getFirst());
    load(browser.findElement(By.cssSelector("form.search button")));
    assertThat(browser.getCurrentUrl()).endsWith("/console/jobs/" + noops.getFirst());
    open("/console/workers");
    assertThat(browser.findElements(By.cssSelector("#workers tbody tr"))).hasSize(1);
    screenshot("workers");
    open("/console/queues");
    WebElement work =
        browser.findElement(
            By.cssSelector("#queues tr[data-queue='" + e2e.prefix + ".work.default']"));
    assertThat(Integer.parseInt(work.findElements(By.tagName("td")).get(1).getText()))
        .as("the worker consumes its pool's queue")
        .isPositive();
    screenshot("queues");
  }

  @Test
  @Order(7)
  void aReaderSeesEveryPageButNoActionAndItsActionIsForbidden() throws Exception {
    load(browser.findElement(By.cssSelector("form.logout button")));
    assertThat(browser.getCurrentUrl()).as(browser::getPageSource).endsWith("/console/login");
    signIn(READER_KEY);
    assertThat(browser.findElement(By.cssSelector("header .who")).getText()).isEqualTo(READER);
    String running =
        client
            .submit(
                JobSubmission.of(
                    "site.generate",
                    Json.mapper()
                        .createObjectNode()
                        .put("site", "read-only.example")
                        .put("phaseMillis", 600_000)))
            .jobId();
    awaitState(running, JobState.RUNNING);
    open("/console/jobs/" + running);
    assertThat(text("job-state")).isEqualTo("RUNNING");
    assertThat(browser.findElements(By.cssSelector(".actions a"))).isEmpty();
    open("/console/dead");
    assertThat(browser.findElements(By.cssSelector("#dead tbody tr[data-record]"))).isNotEmpty();
    assertThat(browser.findElements(By.cssSelector("#dead a.button"))).isEmpty();
    assertThat(browser.findElements(By.cssSelector("input[name=ids]"))).isEmpty();
    screenshot("read-only");
    var forbidden =
        HttpClient.newHttpClient()
            .send(
                HttpRequest.newBuilder(base.resolve("/console/jobs/" + running + "/cancel"))
                    .header("X-Api-Key", READER_KEY)
                    .POST(HttpRequest.BodyPublishers.noBody())
                    .build(),
                HttpResponse.BodyHandlers.ofString());
    assertThat(forbidden.statusCode()).as(forbidden.body()).isEqualTo(403);
    assertThat(stateOf(running)).isEqualTo(JobState.RUNNING);
    client.cancel(running);
  }

  // ---- helpers

  private void signIn(String key) {
    open("/console/login");
    browser.findElement(By.id("apiKey")).sendKeys(key);
    load(browser.findElement(By.cssSelector("form.login button")));
    assertThat(browser.getCurrentUrl()).endsWith("/console");
  }

  /**
   * Clicks a link or a form's button and waits until the browser left the page it was on: a click
   * returns once the event is dispatched, and reading right after it could read the old page.
   */
  private void load(WebElement target) {
    WebElement page = browser.findElement(By.tagName("html"));
    target.click();
    await()
        .atMost(WAIT)
        .until(
            () -> {
              try {
                page.isEnabled(); // still the old page
                return false;
              } catch (org.openqa.selenium.StaleElementReferenceException gone) {
                return true;
              }
            });
  }

  private void open(String path) {
    browser.get(base.resolve(path).toString());
  }

  /**
   * The text of the element with this id, read in one script: the overview's live part is replaced
   * as a whole, so an element found first and read after may be gone.
   */
  private String text(String id) {
    Object text =
        js("var e = document.getElementById(arguments[0]); return e && e.textContent.trim();", id);
    assertThat(text).as("#%s on %s", id, browser.getCurrentUrl()).isNotNull();
    return text.toString();
  }

  /** The notice an action left on the page it went back to; the page itself when there is none. */
  private String notice() {
    List<WebElement> notices = browser.findElements(By.cssSelector(".notice"));
    assertThat(notices)
        .as(() -> browser.getCurrentUrl() + " shows no notice:\n" + browser.getPageSource())
        .isNotEmpty();
    return notices.getFirst().getText();
  }

  private Object js(String script, Object... args) {
    return ((JavascriptExecutor) browser).executeScript(script, args);
  }

  private WebElement deadRow(String jobId) {
    browser.navigate().refresh();
    return browser.findElements(By.cssSelector("#dead tr[data-job='" + jobId + "']")).stream()
        .findFirst()
        .orElse(null);
  }

  private boolean redriven(String id) {
    return client.get(id).orElseThrow().history().stream()
        .anyMatch(h -> h.event() == JobEvent.REDRIVE);
  }

  private JobState stateOf(String id) {
    return client.get(id).orElseThrow().state();
  }

  private void awaitState(String id, JobState state) {
    await(id + " " + state)
        .atMost(WAIT)
        .pollInterval(Duration.ofMillis(100))
        .until(() -> stateOf(id) == state);
  }

  /** Saves what the browser shows as docs/images/console-{name}.png. */
  private void screenshot(String name) throws Exception {
    Path images = Cluster.repositoryRoot().resolve("docs/images");
    Files.createDirectories(images);
    Files.write(
        images.resolve("console-" + name + ".png"), browser.getScreenshotAs(OutputType.BYTES));
  }
}
