package dev.shepherd.contracts;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.dataformat.yaml.YAMLMapper;

class AsyncApiTest {

  private static final Path DIR = Path.of("src/main/resources/contracts");

  private static JsonNode document() throws IOException {
    return new YAMLMapper().readTree(Files.readString(DIR.resolve("asyncapi.yaml")));
  }

  @Test
  void theDocumentIsAsyncApi3WithEveryExchangeAndQueue() throws IOException {
    JsonNode doc = document();
    assertThat(doc.path("asyncapi").asString()).isEqualTo("3.0.0");
    List<String> addresses = new ArrayList<>();
    doc.path("channels").forEach(c -> addresses.add(c.path("address").asString()));
    assertThat(addresses)
        .contains(
            "shepherd.submit",
            "shepherd.work",
            "shepherd.work.{pool}",
            "shepherd.status",
            "shepherd.status.tracker",
            "shepherd.control",
            "shepherd.dlx",
            "shepherd.dead");
  }

  @Test
  void everyReferencedSchemaFileExistsAndEveryOperationNamesAChannel() throws IOException {
    JsonNode doc = document();
    List<String> refs = doc.findValuesAsString("$ref");
    assertThat(refs).isNotEmpty();
    for (String ref : refs) {
      if (ref.startsWith("#/")) {
        String[] path = ref.substring(2).split("/");
        JsonNode target = doc;
        for (String part : path) {
          target = target.path(part);
        }
        assertThat(target.isMissingNode()).as(ref).isFalse();
      } else {
        assertThat(DIR.resolve(ref)).as(ref).isRegularFile();
      }
    }
  }
}
