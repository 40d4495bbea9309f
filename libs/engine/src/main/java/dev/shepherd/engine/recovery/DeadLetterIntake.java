package dev.shepherd.engine.recovery;

import dev.shepherd.model.DeadJob;
import dev.shepherd.model.Json;
import dev.shepherd.model.MetricNames;
import dev.shepherd.store.DeadJobs;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;

/**
 * Turns a message the broker dead-lettered (delivery limit reached, rejected, expired) into a
 * dead-job record with the reason, the queue it died in and the raw body.
 */
public final class DeadLetterIntake {

  private final DeadJobs deadJobs;
  private final Counter recorded;

  public DeadLetterIntake(DeadJobs deadJobs, MeterRegistry meters) {
    this.deadJobs = deadJobs;
    this.recorded =
        Counter.builder(MetricNames.DEAD_LETTERS)
            .description("dead-lettered messages recorded as dead jobs")
            .register(meters);
  }

  /**
   * @param headers the AMQP headers, where the broker put {@code x-death} and {@code
   *     x-first-death-*}
   */
  public DeadJob record(byte[] body, Map<String, Object> headers) {
    String queue = String.valueOf(headers.getOrDefault("x-first-death-queue", "unknown queue"));
    String reason = String.valueOf(headers.getOrDefault("x-first-death-reason", "unknown"));
    long count = deathCount(headers.get("x-death"));
    String raw = new String(body, StandardCharsets.UTF_8);
    String jobId = null;
    String type = null;
    try {
      JsonNode node = Json.mapper().readTree(body);
      if (node != null && node.isObject()) {
        jobId = node.path("jobId").asString(null);
        type = node.path("type").asString(null);
      }
    } catch (JacksonException e) {
      // unreadable bodies are recorded as they are: the raw text says what arrived
    }
    String why =
        switch (reason) {
          case "delivery_limit" ->
              "delivery limit reached in "
                  + queue
                  + " (the message was delivered and not"
                  + " acknowledged too many times)";
          case "rejected" -> "rejected by a consumer of " + queue;
          case "expired" -> "expired in " + queue;
          case "maxlen" -> "dropped by " + queue + " because the queue was full";
          default -> reason + " in " + queue;
        };
    if (count > 1) {
      why += " (dead-lettered " + count + " times)";
    }
    recorded.increment();
    return deadJobs.recordDead(jobId, type, why, queue, raw);
  }

  private static long deathCount(Object xDeath) {
    if (xDeath instanceof List<?> deaths
        && !deaths.isEmpty()
        && deaths.get(0) instanceof Map<?, ?> first) {
      Object count = first.get("count");
      if (count instanceof Number n) {
        return n.longValue();
      }
    }
    return 0;
  }
}
