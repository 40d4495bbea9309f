package dev.shepherd.worker;

import static org.assertj.core.api.Assertions.assertThat;

import dev.shepherd.model.Json;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.NullNode;

class PayloadBindingTest {

  record Site(String site, Integer phaseMillis) {}

  record Strict(String name) {
    Strict {
      if (name == null) {
        throw new IllegalArgumentException("name is required");
      }
    }
  }

  private static JsonNode json(String text) {
    return Json.mapper().readTree(text);
  }

  @Test
  void aFittingPayloadBindsToTheRecord() {
    assertThat(PayloadBinding.bind(json("{\"site\":\"a.example\",\"phaseMillis\":5}"), Site.class))
        .isEqualTo(new PayloadBinding.Bound<>(new Site("a.example", 5)));
  }

  @Test
  void anUnknownFieldIsRefusedNamingIt() {
    var binding = PayloadBinding.bind(json("{\"site\":\"a\",\"colour\":\"red\"}"), Site.class);

    assertThat(binding)
        .isInstanceOfSatisfying(
            PayloadBinding.Unbound.class, u -> assertThat(u.problem()).contains("colour"));
  }

  @Test
  void aFieldOfTheWrongTypeIsRefused() {
    var binding = PayloadBinding.bind(json("{\"phaseMillis\":\"soon\"}"), Site.class);

    assertThat(binding).isInstanceOf(PayloadBinding.Unbound.class);
  }

  @Test
  void aConstructorThatRefusesTheValueMakesThePayloadUnbound() {
    var binding = PayloadBinding.bind(json("{}"), Strict.class);

    assertThat(binding)
        .isInstanceOfSatisfying(
            PayloadBinding.Unbound.class,
            u -> assertThat(u.problem()).contains("name is required"));
  }

  @Test
  void anAbsentPayloadBindsAsAnEmptyObject() {
    assertThat(PayloadBinding.bind(null, Site.class))
        .isEqualTo(new PayloadBinding.Bound<>(new Site(null, null)));
    assertThat(PayloadBinding.bind(NullNode.getInstance(), Site.class))
        .isEqualTo(new PayloadBinding.Bound<>(new Site(null, null)));
  }

  @Test
  void aJsonNodeHandlerTakesThePayloadAsItIs() {
    JsonNode payload = json("{\"anything\":[1,2,3]}");

    assertThat(PayloadBinding.bind(payload, JsonNode.class))
        .isEqualTo(new PayloadBinding.Bound<>(payload));
  }
}
