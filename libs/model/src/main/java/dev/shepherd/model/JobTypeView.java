package dev.shepherd.model;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.time.Instant;
import java.util.List;
import tools.jackson.databind.JsonNode;

/**
 * One job type the scheduler accepts, as {@code GET /api/v1/types} shows it (ADR 35).
 *
 * @param type the job type, the routing key of its work messages
 * @param pool the worker pool whose queue receives its jobs
 * @param source {@code configuration} when the scheduler's {@code shepherd.messaging.pools} lists
 *     it (configuration wins over an announcement), {@code announced} when only a worker announced
 *     it
 * @param payloadSchema the JSON Schema its payloads are validated against at submission: the one
 *     Shepherd ships for its own types, else the one a worker announced; null when none
 * @param maxAttempts the attempts a job of the type gets when its submission names none
 * @param timeouts the type's attempt timeouts; null when it sets none
 * @param workers the live workers (not lost) that run it, by id
 * @param announcedAt when a worker last announced it; null when none ever did
 * @param announcedBy the worker that did
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record JobTypeView(
    String type,
    String pool,
    String source,
    JsonNode payloadSchema,
    int maxAttempts,
    JobTimeouts timeouts,
    List<String> workers,
    Instant announcedAt,
    String announcedBy) {

  public static final String CONFIGURATION = "configuration";
  public static final String ANNOUNCED = "announced";

  public JobTypeView {
    workers = workers == null ? List.of() : List.copyOf(workers);
  }
}
