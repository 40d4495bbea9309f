package dev.shepherd.contracts;

import static org.assertj.core.api.Assertions.assertThat;

import dev.shepherd.model.DeadJob;
import dev.shepherd.model.JobSubmission;
import dev.shepherd.model.JobSummary;
import dev.shepherd.model.JobView;
import dev.shepherd.model.Json;
import dev.shepherd.model.StatusEvent;
import dev.shepherd.model.SubmitReceipt;
import dev.shepherd.model.WorkMessage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import tools.jackson.databind.JsonNode;

/** Both sides of every contract: the schemas and the Java records agree on every example. */
class ContractExamplesTest {

  private static final Path EXAMPLES = Path.of("examples");
  private static final Contracts CONTRACTS = new Contracts();

  private static final Map<String, Class<?>> RECORDS =
      Map.of(
          Contracts.JOB_SUBMISSION, JobSubmission.class,
          Contracts.WORK_MESSAGE, WorkMessage.class,
          Contracts.STATUS_EVENT, StatusEvent.class,
          Contracts.JOB_VIEW, JobView.class,
          Contracts.JOB_SUMMARY, JobSummary.class,
          Contracts.DEAD_JOB, DeadJob.class,
          Contracts.SUBMIT_RECEIPT, SubmitReceipt.class);

  private static final java.util.Comparator<JsonNode> SAME_NUMBER =
      (a, b) -> {
        if (a.isNumber() && b.isNumber()) {
          return a.decimalValue().compareTo(b.decimalValue());
        }
        return a.equals(b) ? 0 : 1;
      };

  static Stream<Path> validExamples() {
    return files(EXAMPLES.resolve("valid"));
  }

  static Stream<Path> invalidExamples() {
    return files(EXAMPLES.resolve("invalid"))
        .filter(p -> !p.getFileName().toString().equals("expectations.json"));
  }

  private static Stream<Path> files(Path dir) {
    try (Stream<Path> walk = Files.walk(dir)) {
      return walk.filter(p -> p.toString().endsWith(".json")).sorted().toList().stream();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static String schemaOf(Path example) {
    return example.getParent().getFileName().toString();
  }

  private static JsonNode read(Path file) {
    try {
      return Json.mapper().readTree(Files.readString(file));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("validExamples")
  void aValidExampleConformsToItsSchema(Path example) {
    assertThat(CONTRACTS.validate(schemaOf(example), read(example))).isEmpty();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("validExamples")
  void aValidExampleRoundTripsThroughItsRecordUnchanged(Path example) {
    JsonNode original = read(example);
    Class<?> type = RECORDS.get(schemaOf(example));
    Object record = Json.mapper().treeToValue(original, type);
    JsonNode back = Json.mapper().valueToTree(record);
    // Equal as JSON: 1500 read as an int and written from a long is the same number.
    assertThat(back.equals(SAME_NUMBER, original)).as("%s became %s", original, back).isTrue();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("invalidExamples")
  void anInvalidExampleIsRejectedNamingTheField(Path example) {
    Map<String, String> expectations = expectations();
    String key = schemaOf(example) + "/" + example.getFileName();
    assertThat(expectations).as("expectations.json names a field for " + key).containsKey(key);
    List<Contracts.Violation> violations = CONTRACTS.validate(schemaOf(example), read(example));
    assertThat(violations).as(key).isNotEmpty();
    String field = expectations.get(key);
    assertThat(violations)
        .as(key + " " + violations)
        .anySatisfy(v -> assertThat(v.field() + " " + v.message()).contains(field));
  }

  @Test
  void aMissingRequiredPropertyIsReportedAtItsOwnPath() {
    List<Contracts.Violation> violations =
        CONTRACTS.validate(Contracts.JOB_SUBMISSION, Json.mapper().readTree("{\"payload\":{}}"));
    assertThat(violations).extracting(Contracts.Violation::field).contains("/type");
  }

  @Test
  void everyDemoJobTypeHasAPayloadSchemaThatIsApplied() {
    assertThat(CONTRACTS.payloadTypes())
        .containsExactlyInAnyOrder("site.generate", "demo.flaky", "demo.poison", "demo.noop");
    assertThat(CONTRACTS.validatePayload("site.generate", Json.mapper().readTree("{}")))
        .extracting(Contracts.Violation::field)
        .containsExactly("/site");
    assertThat(
            CONTRACTS.validatePayload("site.generate", Json.mapper().readTree("{\"site\":\"x\"}")))
        .isEmpty();
  }

  @Test
  void everySchemaDeclaresDraft2020AndAnId() throws IOException {
    try (Stream<Path> schemas = Files.walk(Path.of("src/main/resources/contracts"))) {
      List<Path> files = schemas.filter(p -> p.toString().endsWith(".schema.json")).toList();
      assertThat(files).hasSizeGreaterThanOrEqualTo(12);
      for (Path file : files) {
        JsonNode schema = read(file);
        assertThat(schema.path("$schema").asString())
            .as(file.toString())
            .isEqualTo("https://json-schema.org/draft/2020-12/schema");
        assertThat(schema.path("$id").asString())
            .as(file.toString())
            .endsWith(file.getFileName().toString());
      }
    }
  }

  @Test
  void everyInvalidExpectationHasItsExample() {
    expectations()
        .keySet()
        .forEach(
            key -> assertThat(EXAMPLES.resolve("invalid").resolve(key)).as(key).isRegularFile());
  }

  private static Map<String, String> expectations() {
    JsonNode node = read(EXAMPLES.resolve("invalid/expectations.json"));
    return Json.mapper()
        .convertValue(node, new tools.jackson.core.type.TypeReference<Map<String, String>>() {});
  }
}
