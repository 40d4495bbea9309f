package dev.shepherd.worker;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.annotation.JsonProperty;
import dev.shepherd.model.Json;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/**
 * The schema a worker announces for its handler's payload class (ADR 35) says what the mapper
 * binds: property names, types, enums, nesting, no unknown properties, the required ones.
 */
class PayloadSchemasTest {

  enum Size {
    SMALL,
    LARGE
  }

  record Crop(int x, int y) {}

  record Resize(
      @JsonProperty(required = true) String image,
      int width,
      Integer height,
      double quality,
      boolean keepRatio,
      Size size,
      List<String> tags,
      Set<UUID> ids,
      Map<String, Long> counts,
      Optional<Crop> crop,
      Instant at,
      @JsonProperty("max_bytes") long maxBytes,
      JsonNode extra) {}

  record Tree(String name, List<Tree> children) {}

  @Test
  void aRecordIsAClosedObjectOfItsComponents() {
    JsonNode schema = PayloadSchemas.of(Resize.class);
    assertThat(schema.path("$schema").asString())
        .isEqualTo("https://json-schema.org/draft/2020-12/schema");
    assertThat(schema.path("title").asString()).isEqualTo("Resize");
    assertThat(schema.path("type").asString()).isEqualTo("object");
    assertThat(schema.path("additionalProperties").asBoolean(true)).isFalse();
    assertThat(schema.path("required").toString())
        .as("the marked one and the primitives, which the mapper refuses to miss")
        .isEqualTo("[\"image\",\"width\",\"quality\",\"keepRatio\",\"max_bytes\"]");
    JsonNode p = schema.path("properties");
    assertThat(p.path("image").path("type").toString()).isEqualTo("[\"string\",\"null\"]");
    assertThat(p.path("width").path("type").asString()).as("a primitive").isEqualTo("integer");
    assertThat(p.path("height").path("type").toString()).isEqualTo("[\"integer\",\"null\"]");
    assertThat(p.path("quality").path("type").asString()).isEqualTo("number");
    assertThat(p.path("keepRatio").path("type").asString()).isEqualTo("boolean");
    assertThat(p.path("size").path("enum").toString()).isEqualTo("[\"SMALL\",\"LARGE\",null]");
    assertThat(p.path("tags").path("items").path("type").toString())
        .isEqualTo("[\"string\",\"null\"]");
    assertThat(p.path("ids").path("uniqueItems").asBoolean()).isTrue();
    assertThat(p.path("ids").path("items").path("format").asString()).isEqualTo("uuid");
    assertThat(p.path("counts").path("additionalProperties").path("type").toString())
        .isEqualTo("[\"integer\",\"null\"]");
    assertThat(p.path("crop").path("properties").path("x").path("type").asString())
        .isEqualTo("integer");
    assertThat(p.path("at").path("format").asString()).isEqualTo("date-time");
    assertThat(p.has("max_bytes")).as("named as Jackson names it").isTrue();
    assertThat(p.has("maxBytes")).isFalse();
    assertThat(p.path("extra").isObject() && p.path("extra").isEmpty()).as("any JSON").isTrue();
  }

  @Test
  void aRecursiveRecordStopsAtItsOwnReference() {
    JsonNode schema = PayloadSchemas.of(Tree.class);
    JsonNode child = schema.path("properties").path("children").path("items");
    assertThat(child.path("type").toString()).isEqualTo("[\"object\",\"null\"]");
    assertThat(child.has("properties")).as("not expanded again").isFalse();
  }

  @Test
  void aHandlerAnnouncesTheGeneratedSchemaUnlessItGivesItsOwn() {
    JobHandler<Crop> generated =
        new JobHandler<>() {
          public String type() {
            return "image.crop";
          }

          public Class<Crop> payloadType() {
            return Crop.class;
          }

          public void handle(JobContext<Crop> context) {}
        };
    assertThat(generated.payloadSchema()).isEqualTo(PayloadSchemas.of(Crop.class));
    JsonNode own = Json.mapper().readTree("{\"type\":\"object\",\"maxProperties\":2}");
    JobHandler<Crop> given =
        new JobHandler<>() {
          public String type() {
            return "image.crop";
          }

          public Class<Crop> payloadType() {
            return Crop.class;
          }

          public JsonNode payloadSchema() {
            return own;
          }

          public void handle(JobContext<Crop> context) {}
        };
    var announced = WorkerRuntime.announcements(List.of(generated, given), "images");
    assertThat(announced).extracting(a -> a.pool()).containsOnly("images");
    assertThat(announced.get(0).payloadSchema()).isEqualTo(PayloadSchemas.of(Crop.class));
    assertThat(announced.get(1).payloadSchema()).isEqualTo(own);
  }
}
