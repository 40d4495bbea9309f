package dev.shepherd.contracts;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.shepherd.contracts.Contracts.Violation;
import dev.shepherd.model.Json;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/** How violations read: the field as a JSON pointer, and a message naming the field and rule. */
class ContractsTest {

  private static final Contracts CONTRACTS = Contracts.shared();

  private static JsonNode json(String text) {
    return Json.mapper().readTree(text);
  }

  private static List<Violation> submission(String text) {
    return CONTRACTS.validate(Contracts.JOB_SUBMISSION, json(text));
  }

  @Test
  void aBrokenBoundNamesTheFieldAndTheLimit() {
    assertThat(submission("{\"type\":\"demo.noop\",\"payload\":{},\"maxAttempts\":101}"))
        .containsExactly(new Violation("/maxAttempts", "/maxAttempts: must be at most 100"));
  }

  @Test
  void aMissingRequiredPropertyIsReportedAtItsOwnPath() {
    assertThat(submission("{\"payload\":{}}"))
        .containsExactly(new Violation("/type", "/type: is required"));
  }

  @Test
  void anUnknownPropertyIsReportedAtItsOwnPath() {
    assertThat(submission("{\"type\":\"demo.noop\",\"payload\":{},\"priority\":9}"))
        .containsExactly(
            new Violation("/priority", "/priority: is not allowed (unknown property)"));
  }

  @Test
  void everyBrokenRuleIsReportedNotJustTheFirst() {
    assertThat(
            submission(
                "{\"type\":\"Bad Type\",\"payload\":[],\"maxAttempts\":0,\"notBefore\":\"soon\"}"))
        .extracting(Violation::field)
        .containsExactlyInAnyOrder("/type", "/payload", "/maxAttempts", "/notBefore");
  }

  @Test
  void aWrongTypeSaysWhatWasExpectedAndWhatCame() {
    assertThat(submission("{\"type\":\"demo.noop\",\"payload\":\"text\"}"))
        .containsExactly(new Violation("/payload", "/payload: must be an object, not a string"));
  }

  @Test
  void aMalformedInstantIsRefusedNotIgnored() {
    assertThat(submission("{\"type\":\"demo.noop\",\"payload\":{},\"notBefore\":\"tomorrow\"}"))
        .extracting(Violation::message)
        .containsExactly(
            "/notBefore: must be an RFC 3339 date-time with an offset, such as"
                + " 2026-11-25T10:00:00Z");
  }

  @Test
  void aTimeoutThatIsNotAPositiveDurationSaysWhatADurationLooksLike() {
    for (String bad : List.of("PT0S", "-PT5S", "5s", "P1M", "PT")) {
      assertThat(
              submission(
                  "{\"type\":\"demo.noop\",\"payload\":{},\"timeouts\":{\"stall\":\""
                      + bad
                      + "\"}}"))
          .as(bad)
          .containsExactly(
              new Violation(
                  "/timeouts/stall",
                  "/timeouts/stall: must be a positive ISO-8601 duration in days, hours, minutes"
                      + " and seconds, such as PT30S or PT10M"));
    }
    assertThat(
            submission(
                "{\"type\":\"demo.noop\",\"payload\":{},"
                    + "\"timeouts\":{\"startToClose\":\"P1DT2H3M4.5S\",\"stall\":\"PT0.5S\"}}"))
        .isEmpty();
  }

  @Test
  void theWholeDocumentIsTheEmptyPointer() {
    assertThat(submission("[]"))
        .containsExactly(new Violation("", "(root): must be an object, not an array"));
    assertThat(CONTRACTS.validate(Contracts.JOB_SUBMISSION, null))
        .containsExactly(new Violation("", "(root): must be an object, not null"));
  }

  @Test
  void aStatusEventIsJudgedByTheRulesOfItsOwnKindOnly() {
    String progress =
        """
        {"event":"PROGRESS","jobId":"07-9c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f","type":"demo.noop",
         "attempt":1,"fencingToken":5,"sequence":3,"workerId":"w","at":"2026-11-25T10:00:00Z",
         "percent":120,"phase":"work"}
        """;
    assertThat(CONTRACTS.validate(Contracts.STATUS_EVENT, json(progress)))
        .containsExactlyInAnyOrder(
            new Violation("/percent", "/percent: must be at most 100"),
            new Violation("/phase", "/phase: is not allowed (unknown property)"));
  }

  @Test
  void aStatusEventOfUnknownKindIsReportedAtItsEventField() {
    String exploded =
        """
        {"event":"EXPLODED","jobId":"07-9c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f","type":"demo.noop",
         "attempt":1,"fencingToken":5,"sequence":3,"workerId":"w","at":"2026-11-25T10:00:00Z"}
        """;
    assertThat(CONTRACTS.validate(Contracts.STATUS_EVENT, json(exploded)))
        .containsExactly(
            new Violation(
                "/event",
                "/event: must be one of PHASE_STARTED, PHASE_ENDED, PROGRESS, HEARTBEAT, SUCCEEDED,"
                    + " FAILED"));
  }

  @Test
  void payloadViolationsAreRelativeToThePayloadAndCanBePlacedInTheSubmission() {
    List<Violation> violations = CONTRACTS.validatePayload("site.generate", json("{}"));

    assertThat(violations).containsExactly(new Violation("/site", "/site: is required"));
    assertThat(violations.get(0).within("/payload"))
        .isEqualTo(new Violation("/payload/site", "/payload/site: is required"));
    assertThat(new Violation("", "(root): must be an object, not an array").within("/payload"))
        .isEqualTo(new Violation("/payload", "/payload: must be an object, not an array"));
  }

  @Test
  void everyDemoJobTypeHasAPayloadSchemaAndOtherTypesPassUnchecked() {
    assertThat(CONTRACTS.payloadTypes())
        .containsExactly("demo.flaky", "demo.noop", "demo.poison", "site.generate");
    assertThat(CONTRACTS.hasPayloadSchema("site.generate")).isTrue();
    assertThat(CONTRACTS.hasPayloadSchema("billing.invoice")).isFalse();
    assertThat(CONTRACTS.validatePayload("billing.invoice", json("[1]"))).isEmpty();
    assertThat(CONTRACTS.validatePayload("site.generate", json("{\"site\":\"a.example\"}")))
        .isEmpty();
  }

  @Test
  void anUnknownSchemaNameIsAProgrammingError() {
    assertThatThrownBy(() -> CONTRACTS.validate("job-submision", json("{}")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("job-submision")
        .hasMessageContaining(Contracts.JOB_SUBMISSION);
  }

  @Test
  void oneInstanceValidatesFromManyThreadsAtOnce() throws Exception {
    Contracts fresh = new Contracts();
    JsonNode good = json("{\"type\":\"site.generate\",\"payload\":{\"site\":\"a\"}}");
    JsonNode bad = json("{\"type\":\"site.generate\",\"payload\":{},\"maxAttempts\":0}");
    List<Callable<Boolean>> calls = new ArrayList<>();
    for (int i = 0; i < 400; i++) {
      boolean even = i % 2 == 0;
      calls.add(
          () ->
              even
                  ? fresh.validate(Contracts.JOB_SUBMISSION, good).isEmpty()
                  : fresh
                      .validate(Contracts.JOB_SUBMISSION, bad)
                      .equals(
                          List.of(
                              new Violation("/maxAttempts", "/maxAttempts: must be at least 1"))));
    }
    ExecutorService pool = Executors.newFixedThreadPool(8);
    try {
      for (Future<Boolean> result : pool.invokeAll(calls)) {
        assertThat(result.get()).isTrue();
      }
    } finally {
      pool.shutdownNow();
    }
  }
}
