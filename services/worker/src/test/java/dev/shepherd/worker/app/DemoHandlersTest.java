package dev.shepherd.worker.app;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.shepherd.model.Json;
import dev.shepherd.worker.Batch;
import dev.shepherd.worker.PermanentJobException;
import dev.shepherd.worker.RetryableJobException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;

class DemoHandlersTest {

  private static final DemoProperties FAST = new DemoProperties(Duration.ZERO, 0.5, Duration.ZERO);

  @Test
  void siteGenerateCancelledDuringAPhaseStartsNoOther() throws Exception {
    var job = new RecordingContext<>(new SiteGenerateHandler.Payload("bugs.example", 0, null), 1);
    job.cancelOnProgress = true;

    new SiteGenerateHandler(FAST).handle(job);

    assertThat(job.reports)
        .containsExactly(
            "start bug_list_download",
            "end bug_list_download",
            "33% bug_list_download done for bugs.example");
  }

  @Test
  void siteGenerateThatIgnoresCancelRunsEveryPhaseAndKeepsTheInterrupt() throws Exception {
    var job = new RecordingContext<>(new SiteGenerateHandler.Payload("bugs.example", 30, true), 1);
    job.cancelled = true;
    Thread.currentThread().interrupt();
    try {
      new SiteGenerateHandler(FAST).handle(job);
      assertThat(Thread.currentThread().isInterrupted()).isTrue();
    } finally {
      Thread.interrupted();
    }
    assertThat(job.reports).contains("100% publish done for bugs.example");
  }

  @Test
  void siteGenerateRunsItsThreePhasesInOrderWithProgressAfterEach() throws Exception {
    var job = new RecordingContext<>(new SiteGenerateHandler.Payload("bugs.example", 0, null), 1);

    new SiteGenerateHandler(FAST).handle(job);

    assertThat(job.reports)
        .containsExactly(
            "start bug_list_download",
            "end bug_list_download",
            "33% bug_list_download done for bugs.example",
            "start dashboard_render",
            "end dashboard_render",
            "66% dashboard_render done for bugs.example",
            "start publish",
            "end publish",
            "100% publish done for bugs.example");
  }

  @Test
  void siteGenerateWithoutASiteFailsPermanently() {
    var job = new RecordingContext<>(new SiteGenerateHandler.Payload(" ", 0, null), 1);

    assertThatThrownBy(() -> new SiteGenerateHandler(FAST).handle(job))
        .isInstanceOf(PermanentJobException.class)
        .hasMessageContaining("site");
  }

  @Test
  void flakyFailsRetryablyWhenTheDrawIsBelowTheProbability() {
    var job = new RecordingContext<>(new FlakyHandler.Payload(0.3, null, 0, null, null), 1);

    assertThatThrownBy(() -> new FlakyHandler(FAST, () -> 0.29).handle(job))
        .isInstanceOf(RetryableJobException.class);
  }

  @Test
  void flakySucceedsWhenTheDrawIsAtOrAboveTheProbability() throws Exception {
    var job = new RecordingContext<>(new FlakyHandler.Payload(0.3, null, 0, null, null), 1);

    new FlakyHandler(FAST, () -> 0.3).handle(job);
  }

  @Test
  void flakyTakesTheProbabilityFromThePropertiesWhenThePayloadHasNone() throws Exception {
    var job = new RecordingContext<>(new FlakyHandler.Payload(null, null, null, null, null), 1);

    assertThatThrownBy(() -> new FlakyHandler(FAST, () -> 0.49).handle(job))
        .isInstanceOf(RetryableJobException.class);
    new FlakyHandler(FAST, () -> 0.5).handle(job);
  }

  @Test
  void flakyAlwaysFailsItsFirstAttemptsWhenAsked() throws Exception {
    var payload = new FlakyHandler.Payload(0.0, 2, 0, null, null);

    assertThatThrownBy(
            () -> new FlakyHandler(FAST, () -> 0.99).handle(new RecordingContext<>(payload, 2)))
        .isInstanceOf(RetryableJobException.class)
        .hasMessageContaining("attempt 2");
    new FlakyHandler(FAST, () -> 0.99).handle(new RecordingContext<>(payload, 3));
  }

  @Test
  void poisonAlwaysFailsPermanently() {
    JsonNode payload = Json.mapper().createObjectNode();

    assertThatThrownBy(() -> new PoisonHandler().handle(new RecordingContext<>(payload, 1)))
        .isInstanceOf(PermanentJobException.class)
        .hasMessage("poison payload");
  }

  @Test
  void noopDoesNothing() throws Exception {
    var job = new RecordingContext<JsonNode>(Json.mapper().createObjectNode(), 1);

    new NoopHandler().handle(job);

    assertThat(job.reports).isEmpty();
  }

  @Test
  void noopReportsTheJobsOfATransactionInOrder() {
    JsonNode payload = Json.mapper().createObjectNode();
    var job = new RecordingContext<>(payload, 1);
    var batch =
        new Batch<>(
            42,
            List.of(
                new Batch.Job<>("00-test", payload),
                new Batch.Job<>("01-b", payload),
                new Batch.Job<>("02-c", payload)));

    new NoopHandler().handle(batch, job);

    assertThat(job.reports).containsExactly("100% transaction 42: 00-test,01-b,02-c");
  }

  @Test
  void flakyFailsUntilItsFlagFileExists(@TempDir Path dir) throws Exception {
    Path flag = dir.resolve("up");
    var payload = new FlakyHandler.Payload(0.0, null, 0, null, flag.toString());
    var job = new RecordingContext<>(payload, 7);

    assertThatThrownBy(() -> new FlakyHandler(FAST, () -> 0.99).handle(job))
        .isInstanceOf(RetryableJobException.class)
        .hasMessageContaining("is not there");
    Files.createFile(flag);
    new FlakyHandler(FAST, () -> 0.99).handle(job);
  }

  @Test
  void demoPropertiesRefuseAProbabilityOutsideZeroToOne() {
    assertThatThrownBy(() -> new DemoProperties(null, 1.5, null))
        .hasMessageContaining("shepherd.demo.failure-probability");
    assertThat(new DemoProperties(null, null, null))
        .isEqualTo(new DemoProperties(Duration.ofMillis(200), 0.5, Duration.ofMillis(50)));
  }
}
