package dev.shepherd.scheduler;

import java.util.ArrayList;
import java.util.List;
import tools.jackson.databind.JsonNode;

/** Finds the {@code $ref}s of a document that point at nothing in it. */
final class ApiDocsCheck {

  private ApiDocsCheck() {}

  /** Every {@code $ref} of {@code document} that is not a JSON pointer to a node of it. */
  static List<String> danglingRefs(JsonNode document) {
    List<String> dangling = new ArrayList<>();
    collect(document, document, dangling);
    return dangling;
  }

  /**
   * A copy with every {@code required} list sorted: its order means nothing, and the OpenAPI model
   * keeps it as a set.
   */
  static JsonNode sortedRequired(JsonNode node) {
    if (node.isObject()) {
      var copy = dev.shepherd.model.Json.mapper().createObjectNode();
      for (var field : node.properties()) {
        JsonNode value = field.getValue();
        if (field.getKey().equals("required") && value.isArray()) {
          var names = new ArrayList<String>();
          value.forEach(v -> names.add(v.asString()));
          names.sort(null);
          var sorted = copy.putArray("required");
          names.forEach(sorted::add);
        } else {
          copy.set(field.getKey(), sortedRequired(value));
        }
      }
      return copy;
    }
    if (node.isArray()) {
      var copy = dev.shepherd.model.Json.mapper().createArrayNode();
      node.forEach(item -> copy.add(sortedRequired(item)));
      return copy;
    }
    return node;
  }

  private static void collect(JsonNode root, JsonNode node, List<String> dangling) {
    if (node.isObject()) {
      for (var field : node.properties()) {
        if (field.getKey().equals("$ref") && field.getValue().isString()) {
          String ref = field.getValue().asString();
          if (!ref.startsWith("#") || root.at(ref.substring(1)).isMissingNode()) {
            dangling.add(ref);
          }
        } else {
          collect(root, field.getValue(), dangling);
        }
      }
    } else if (node.isArray()) {
      node.forEach(item -> collect(root, item, dangling));
    }
  }
}
