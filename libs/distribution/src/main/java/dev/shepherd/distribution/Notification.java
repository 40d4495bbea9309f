package dev.shepherd.distribution;

import java.util.Collections;
import java.util.Map;
import java.util.TreeMap;

/**
 * Something a backend sent Shepherd about one attempt's task (an HTTP callback, a watch event),
 * interpreted only by the distributor that started the task.
 *
 * @param attributes what came with the body (for a callback: the method, path and signature
 *     headers), by name; never null
 * @param body the notification itself, as received
 */
public record Notification(Map<String, String> attributes, String body) {

  public Notification {
    var byName = new TreeMap<String, String>(String.CASE_INSENSITIVE_ORDER);
    if (attributes != null) {
      byName.putAll(attributes);
    }
    attributes = Collections.unmodifiableMap(byName);
    body = body == null ? "" : body;
  }

  /** An attribute by name, ignoring case (HTTP header names), or null. */
  public String attribute(String name) {
    return attributes.get(name);
  }
}
