package dev.shepherd.contracts;

import static org.assertj.core.api.Assertions.assertThat;

import com.networknt.schema.Schema;
import com.networknt.schema.SchemaLocation;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.SpecificationVersion;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import tools.jackson.databind.JsonNode;

/** The schema files themselves: well-formed draft 2020-12 schemas, each where its $id says. */
class SchemaFilesTest {

  private static final String DRAFT_2020_12 = "https://json-schema.org/draft/2020-12/schema";

  static List<Path> schemaFiles() throws IOException {
    try (Stream<Path> files = Files.walk(Examples.RESOURCES)) {
      return files.filter(p -> p.toString().endsWith(".schema.json")).sorted().toList();
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("schemaFiles")
  void schemaFileDeclaresDraft2020AndTheIdOfItsPlace(Path file) {
    JsonNode schema = Examples.read(file);
    String relative = Examples.RESOURCES.relativize(file).toString().replace('\\', '/');
    String expectedId = Contracts.ID_BASE + relative.replaceFirst("^schemas/", "");

    assertThat(schema.isObject()).as(relative).isTrue();
    assertThat(schema.path("$schema").asString()).as(relative).isEqualTo(DRAFT_2020_12);
    assertThat(schema.path("$id").asString()).as(relative).isEqualTo(expectedId);
    assertThat(schema.path("title").asString()).as(relative).isNotBlank();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("schemaFiles")
  void schemaFileConformsToTheDraft2020MetaSchema(Path file) {
    Schema metaSchema =
        SchemaRegistry.withDefaultDialect(SpecificationVersion.DRAFT_2020_12)
            .getSchema(SchemaLocation.of(DRAFT_2020_12));
    assertThat(metaSchema.validate(Examples.read(file))).as(file.toString()).isEmpty();
  }

  @Test
  void everySchemaFileIsLoadedByContracts() throws IOException {
    List<String> expected = new ArrayList<>();
    expected.add("schemas/" + Contracts.DEFINITIONS + ".schema.json");
    Contracts.SCHEMAS.forEach(name -> expected.add("schemas/" + name + ".schema.json"));
    Contracts.PAYLOAD_TYPES.forEach(type -> expected.add("payloads/" + type + ".schema.json"));

    List<String> present =
        schemaFiles().stream()
            .map(p -> Examples.RESOURCES.relativize(p).toString().replace('\\', '/'))
            .toList();

    assertThat(present).containsExactlyInAnyOrderElementsOf(expected);
    assertThat(Contracts.shared().payloadTypes())
        .containsExactlyInAnyOrderElementsOf(Contracts.PAYLOAD_TYPES);
  }
}
