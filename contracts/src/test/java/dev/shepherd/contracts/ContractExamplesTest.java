package dev.shepherd.contracts;

import static org.assertj.core.api.Assertions.assertThat;

import dev.shepherd.contracts.Examples.Example;
import dev.shepherd.model.CancelRequest;
import dev.shepherd.model.DeadJob;
import dev.shepherd.model.JobSubmission;
import dev.shepherd.model.JobSummary;
import dev.shepherd.model.JobView;
import dev.shepherd.model.Json;
import dev.shepherd.model.StatusEvent;
import dev.shepherd.model.SubmitReceipt;
import dev.shepherd.model.WorkMessage;
import dev.shepherd.model.WorkerControl;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import tools.jackson.databind.JsonNode;

/**
 * Both sides of every contract: each valid example conforms to its schema and survives a trip
 * through its Java record unchanged; each invalid example is refused, naming the field it breaks.
 */
class ContractExamplesTest {

  private static final Contracts CONTRACTS = Contracts.shared();

  /** The record each message and view schema describes. Problem has none: Spring writes it. */
  private static final Map<String, Class<?>> RECORDS =
      Map.of(
          Contracts.JOB_SUBMISSION, JobSubmission.class,
          Contracts.WORK_MESSAGE, WorkMessage.class,
          Contracts.STATUS_EVENT, StatusEvent.class,
          Contracts.JOB_VIEW, JobView.class,
          Contracts.JOB_SUMMARY, JobSummary.class,
          Contracts.DEAD_JOB, DeadJob.class,
          Contracts.SUBMIT_RECEIPT, SubmitReceipt.class,
          Contracts.CANCEL_REQUEST, CancelRequest.class,
          Contracts.WORKER_CONTROL, WorkerControl.class);

  /** JSON equality: 1500 read into an int and written from a long is the same number. */
  private static final Comparator<JsonNode> SAME_JSON =
      (a, b) -> {
        if (a.isNumber() && b.isNumber()) {
          return a.decimalValue().compareTo(b.decimalValue());
        }
        return a.equals(b) ? 0 : 1;
      };

  static List<Example> validExamples() {
    return Examples.valid();
  }

  static List<Example> invalidExamples() {
    return Examples.invalid();
  }

  static List<Example> recordExamples() {
    return Examples.valid().stream().filter(e -> RECORDS.containsKey(e.schema())).toList();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("validExamples")
  void validExampleConformsToItsSchema(Example example) {
    assertThat(example.validateWith(CONTRACTS)).as(example.key()).isEmpty();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("recordExamples")
  void validExampleRoundTripsThroughItsRecordUnchanged(Example example) {
    JsonNode original = example.json();
    Object record = Json.mapper().treeToValue(original, RECORDS.get(example.schema()));
    JsonNode back = Json.mapper().valueToTree(record);
    assertThat(back.equals(SAME_JSON, original))
        .as("%s%n  read as %s%n  written back as %s", example.key(), record, back)
        .isTrue();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("invalidExamples")
  void invalidExampleIsRejectedNamingTheField(Example example) {
    Map<String, String> expectations = Examples.expectations();
    assertThat(expectations)
        .as("expectations.json names the field for %s", example.key())
        .containsKey(example.key());
    String field = expectations.get(example.key());

    List<Contracts.Violation> violations = example.validateWith(CONTRACTS);

    assertThat(violations).as(example.key()).isNotEmpty();
    // Each invalid example breaks one rule, so every violation is about that field, and the
    // message leads with it.
    String label = field.isEmpty() ? "(root)" : field;
    assertThat(violations)
        .as("%s: %s", example.key(), violations)
        .allSatisfy(
            v -> {
              assertThat(v.field()).isEqualTo(field);
              assertThat(v.message()).startsWith(label + ": ");
            });
  }

  @Test
  void everyExpectationHasItsExampleFile() {
    Set<String> files = new TreeSet<>();
    Examples.invalid().forEach(e -> files.add(e.key()));
    assertThat(Examples.expectations().keySet()).isEqualTo(files);
  }

  @Test
  void everySchemaAndPayloadTypeHasExamplesOfBothKinds() {
    Map<String, Integer> valid = count(Examples.valid());
    Map<String, Integer> invalid = count(Examples.invalid());
    List<String> schemas = new ArrayList<>(Contracts.SCHEMAS);
    Contracts.PAYLOAD_TYPES.forEach(type -> schemas.add("payloads/" + type));

    assertThat(valid.keySet()).containsExactlyInAnyOrderElementsOf(schemas);
    assertThat(invalid.keySet()).containsExactlyInAnyOrderElementsOf(schemas);
    for (String schema : Contracts.SCHEMAS) {
      assertThat(valid.get(schema)).as("valid examples of %s", schema).isGreaterThanOrEqualTo(2);
    }
    assertThat(Examples.invalid()).hasSizeGreaterThanOrEqualTo(12);
  }

  @Test
  void everyStatusEventKindHasAValidExample() {
    Set<String> kinds = new TreeSet<>();
    Examples.valid().stream()
        .filter(e -> e.schema().equals(Contracts.STATUS_EVENT))
        .forEach(e -> kinds.add(e.json().path("event").asString()));
    assertThat(kinds)
        .containsExactlyInAnyOrder(
            "PHASE_STARTED", "PHASE_ENDED", "PROGRESS", "HEARTBEAT", "SUCCEEDED", "FAILED");
  }

  private static Map<String, Integer> count(List<Example> examples) {
    Map<String, Integer> counts = new TreeMap<>();
    examples.forEach(e -> counts.merge(e.schema(), 1, Integer::sum));
    return counts;
  }
}
