package dev.shepherd.messaging;

import java.util.Map;

/** One message to publish: where to, and the JSON body with its headers. */
public record OutgoingMessage(
    String exchange,
    String routingKey,
    String messageId,
    byte[] body,
    Map<String, Object> headers) {

  public OutgoingMessage {
    headers = headers == null ? Map.of() : Map.copyOf(headers);
  }
}
