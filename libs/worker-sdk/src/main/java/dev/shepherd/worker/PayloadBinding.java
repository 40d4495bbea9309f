package dev.shepherd.worker;

import dev.shepherd.model.Json;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;

/**
 * Binds a job's JSON payload to a handler's payload type, with the one mapper of all messages
 * (unknown fields refused). An absent or {@code null} payload binds as {@code {}}, so a handler
 * whose payload fields are all optional runs without one.
 */
sealed interface PayloadBinding<P> {

  /** The payload fits. */
  record Bound<P>(P payload) implements PayloadBinding<P> {}

  /** The payload does not fit; {@code problem} names the field and the rule. */
  record Unbound<P>(String problem) implements PayloadBinding<P> {}

  static <P> PayloadBinding<P> bind(JsonNode payload, Class<P> type) {
    JsonNode json =
        payload == null || payload.isNull() || payload.isMissingNode()
            ? Json.mapper().createObjectNode()
            : payload;
    try {
      return new Bound<>(Json.mapper().treeToValue(json, type));
    } catch (JacksonException e) {
      return new Unbound<>(JsonProblem.describe(e));
    } catch (IllegalArgumentException e) {
      // a record's compact constructor refusing a value arrives here, not as a JacksonException
      return new Unbound<>(e.getMessage());
    }
  }
}
