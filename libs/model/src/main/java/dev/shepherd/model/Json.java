package dev.shepherd.model;

import java.time.Instant;
import tools.jackson.databind.DeserializationFeature;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.module.SimpleModule;

/**
 * The one JSON mapper configuration for Shepherd's messages: ISO-8601 instants, unknown properties
 * refused (a typo in a field name is an error, not a silently ignored option).
 */
public final class Json {

  private static final JsonMapper MAPPER =
      JsonMapper.builder()
          .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
          .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
          // the instants Shepherd writes, read without DateTimeFormatter (IsoInstants)
          .addModule(
              new SimpleModule("shepherd-instants")
                  .addDeserializer(Instant.class, new IsoInstants.Deserializer()))
          .build();

  private Json() {}

  public static JsonMapper mapper() {
    return MAPPER;
  }
}
