package dev.shepherd.model;

import java.time.Instant;
import tools.jackson.core.StreamReadConstraints;
import tools.jackson.core.json.JsonFactory;
import tools.jackson.databind.DeserializationFeature;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.module.SimpleModule;

/**
 * The one JSON mapper configuration for Shepherd's messages: ISO-8601 instants, unknown properties
 * refused (a typo in a field name is an error, not a silently ignored option), and {@link #LIMITS}
 * on depth and lengths.
 */
public final class Json {

  /**
   * Bounds on what one document may make the parser do (API4, ADR 40): a hostile body nested ten
   * thousand deep or carrying a number of a million digits is refused as malformed, not parsed.
   */
  public static final StreamReadConstraints LIMITS =
      StreamReadConstraints.builder()
          .maxNestingDepth(100)
          .maxNumberLength(100)
          .maxStringLength(4 * 1024 * 1024)
          .build();

  private static final JsonMapper MAPPER =
      JsonMapper.builder(JsonFactory.builder().streamReadConstraints(LIMITS).build())
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

  /**
   * Whether a message body is a JSON array, told by its first byte that is not white space: the
   * bodies that carry several status events or several submissions in one message (ADR 36, 59).
   */
  public static boolean isArray(byte[] body) {
    for (byte b : body) {
      if (b == '[') {
        return true;
      }
      if (b != ' ' && b != '\t' && b != '\r' && b != '\n') {
        return false;
      }
    }
    return false;
  }
}
