package dev.shepherd.worker;

import com.fasterxml.jackson.annotation.JsonProperty;
import dev.shepherd.model.Json;
import java.lang.reflect.Array;
import java.lang.reflect.GenericArrayType;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.RecordComponent;
import java.lang.reflect.Type;
import java.lang.reflect.WildcardType;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.OffsetDateTime;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * The JSON Schema (draft 2020-12) of a handler's payload class, as the one mapper of all messages
 * binds it: what a worker announces for its job types (ADR 35), so the scheduler refuses a payload
 * the handler could not bind at submission, not after a delivery.
 *
 * <p>A record becomes an object with a property per component (named as {@link JsonProperty} names
 * it), no other properties (the mapper refuses unknown ones), and required: the primitive ones (the
 * mapper refuses a missing primitive) and those marked {@code JsonProperty(required = true)}.
 * Strings, numbers, booleans, enums, arrays, collections, {@code Map<String, V>}, {@code Optional},
 * nested records and the usual value types ({@code Instant} as a date-time, {@code UUID}, {@code
 * URI}, {@code Duration}) map as Jackson binds them; a component that is not a primitive may be
 * {@code null}. Any other class is an object with no further rule: a handler that needs more gives
 * its own schema ({@link JobHandler#payloadSchema()}).
 */
public final class PayloadSchemas {

  static final String DIALECT = "https://json-schema.org/draft/2020-12/schema";

  private PayloadSchemas() {}

  /** The schema of {@code payloadType}, with its {@code $schema} and a {@code title}. */
  public static JsonNode of(Class<?> payloadType) {
    ObjectNode schema = Json.mapper().createObjectNode();
    schema.put("$schema", DIALECT);
    schema.put("title", payloadType.getSimpleName());
    schema.setAll(describe(payloadType, new HashSet<>(), false));
    return schema;
  }

  private static ObjectNode describe(Type type, Set<Class<?>> enclosing, boolean nullable) {
    ObjectNode node = Json.mapper().createObjectNode();
    Class<?> raw = raw(type);
    if (raw == Optional.class) {
      return describe(argument(type, 0), enclosing, true);
    }
    if (raw.isPrimitive()) {
      return typed(node, primitive(raw), false);
    }
    if (raw == String.class || raw == Character.class) {
      return typed(node, "string", true);
    }
    if (raw == Boolean.class) {
      return typed(node, "boolean", true);
    }
    if (raw == Integer.class
        || raw == Long.class
        || raw == Short.class
        || raw == Byte.class
        || raw == BigInteger.class) {
      return typed(node, "integer", true);
    }
    if (Number.class.isAssignableFrom(raw) || raw == BigDecimal.class) {
      return typed(node, "number", true);
    }
    String format = FORMATS.get(raw);
    if (format != null) {
      typed(node, "string", true);
      node.put("format", format);
      return node;
    }
    if (raw.isEnum()) {
      ArrayNode values = node.putArray("enum");
      for (Object constant : raw.getEnumConstants()) {
        values.add(((Enum<?>) constant).name());
      }
      values.addNull();
      return node;
    }
    if (raw.isArray() || Collection.class.isAssignableFrom(raw)) {
      typed(node, "array", true);
      Type item =
          raw.isArray()
              ? (type instanceof GenericArrayType g
                  ? g.getGenericComponentType()
                  : raw.componentType())
              : argument(type, 0);
      node.set("items", describe(item, enclosing, true));
      if (Set.class.isAssignableFrom(raw)) {
        node.put("uniqueItems", true);
      }
      return node;
    }
    if (Map.class.isAssignableFrom(raw)) {
      typed(node, "object", true);
      node.set("additionalProperties", describe(argument(type, 1), enclosing, true));
      return node;
    }
    if (raw == Object.class || JsonNode.class.isAssignableFrom(raw)) {
      return node; // any JSON value
    }
    typed(node, "object", nullable);
    if (raw.isRecord() && enclosing.add(raw)) {
      ObjectNode properties = node.putObject("properties");
      List<String> required = new ArrayList<>();
      for (RecordComponent component : raw.getRecordComponents()) {
        JsonProperty named = component.getAnnotation(JsonProperty.class);
        if (named == null && component.getAccessor() != null) {
          named = component.getAccessor().getAnnotation(JsonProperty.class);
        }
        String name =
            named != null && !named.value().isEmpty() ? named.value() : component.getName();
        properties.set(name, describe(component.getGenericType(), enclosing, true));
        // the mapper refuses a missing primitive (FAIL_ON_NULL_FOR_PRIMITIVES): it is required
        if (component.getType().isPrimitive() || (named != null && named.required())) {
          required.add(name);
        }
      }
      if (!required.isEmpty()) {
        ArrayNode names = node.putArray("required");
        required.forEach(names::add);
      }
      node.put("additionalProperties", false);
      enclosing.remove(raw);
    }
    return node;
  }

  private static final Map<Class<?>, String> FORMATS =
      Map.of(
          Instant.class, "date-time",
          OffsetDateTime.class, "date-time",
          ZonedDateTime.class, "date-time",
          LocalDate.class, "date",
          Duration.class, "duration",
          UUID.class, "uuid",
          URI.class, "uri");

  private static ObjectNode typed(ObjectNode node, String type, boolean nullable) {
    if (nullable) {
      node.putArray("type").add(type).add("null");
    } else {
      node.put("type", type);
    }
    return node;
  }

  private static String primitive(Class<?> raw) {
    if (raw == boolean.class) {
      return "boolean";
    }
    if (raw == char.class) {
      return "string";
    }
    return raw == float.class || raw == double.class ? "number" : "integer";
  }

  private static Class<?> raw(Type type) {
    if (type instanceof Class<?> c) {
      return c;
    }
    if (type instanceof ParameterizedType p) {
      return (Class<?>) p.getRawType();
    }
    if (type instanceof GenericArrayType g) {
      return Array.newInstance(raw(g.getGenericComponentType()), 0).getClass();
    }
    if (type instanceof WildcardType w) {
      return raw(w.getUpperBounds()[0]);
    }
    return Object.class; // a type variable
  }

  private static Type argument(Type type, int index) {
    return type instanceof ParameterizedType p && p.getActualTypeArguments().length > index
        ? p.getActualTypeArguments()[index]
        : Object.class;
  }
}
