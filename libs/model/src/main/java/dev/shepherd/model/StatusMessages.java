package dev.shepherd.model;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import tools.jackson.databind.JavaType;
import tools.jackson.databind.ObjectReader;
import tools.jackson.databind.ObjectWriter;

/**
 * The body of a status message: one {@link StatusEvent} as a JSON object, or several as a JSON
 * array, in the order they apply. A worker carries the events of several attempts that finished
 * within one broker confirm in one message (ADR 36); anything else that reports (a container, a
 * script) sends one event per message. The trace context of each event of an array travels in the
 * {@link #TRACEPARENTS_HEADER} header, comma-separated in the same order.
 */
public final class StatusMessages {

  /** The header listing the W3C trace context of each event of an array body, comma-separated. */
  public static final String TRACEPARENTS_HEADER = "shepherd-traceparents";

  private static final JavaType LIST =
      Json.mapper().getTypeFactory().constructCollectionType(List.class, StatusEvent.class);
  private static final ObjectReader ONE = Json.mapper().readerFor(StatusEvent.class);
  private static final ObjectReader MANY = Json.mapper().readerFor(LIST);
  private static final ObjectWriter ONE_WRITER = Json.mapper().writerFor(StatusEvent.class);
  private static final ObjectWriter MANY_WRITER = Json.mapper().writerFor(LIST);

  private StatusMessages() {}

  /** One event as an object, more as an array (each with its {@code event} name). */
  public static byte[] encode(List<StatusEvent> events) {
    if (events.isEmpty()) {
      throw new IllegalArgumentException("a status message carries at least one event");
    }
    return events.size() == 1
        ? ONE_WRITER.writeValueAsBytes(events.getFirst())
        : MANY_WRITER.writeValueAsBytes(events);
  }

  /**
   * The events of a body, in order.
   *
   * @throws tools.jackson.core.JacksonException when the body is neither an event nor an array of
   *     events
   * @throws IllegalArgumentException when an array is empty
   */
  public static List<StatusEvent> decode(byte[] body) {
    if (!Json.isArray(body)) {
      return List.of(ONE.<StatusEvent>readValue(body));
    }
    List<StatusEvent> events = MANY.readValue(body);
    if (events.isEmpty() || events.contains(null)) {
      throw new IllegalArgumentException("a status message's array holds no event, or a null");
    }
    return events;
  }

  /** The trace contexts of the header's list, in order; empty when there is none. */
  public static List<String> traceparents(Object header) {
    if (header == null || header.toString().isBlank()) {
      return List.of();
    }
    return new ArrayList<>(Arrays.asList(header.toString().split(",", -1)));
  }
}
