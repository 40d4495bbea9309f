package dev.shepherd.distribution.http;

import dev.shepherd.distribution.AttemptRequest;
import dev.shepherd.model.Json;
import java.net.URI;
import tools.jackson.databind.node.NullNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * The JSON body Shepherd POSTs to a job type's endpoint to run one attempt, and where the service
 * reports back:
 *
 * <pre>{@code
 * {"jobId": "07-3f2a...", "type": "report.render", "attempt": 2, "fencingToken": 1796170800000017,
 *  "payload": {...}, "deadline": "2026-12-01T10:00:00Z",
 *  "callbackUrl": "https://shepherd.example/api/v1/attempts/07-3f2a....2/events",
 *  "callbackSecret": "<64 hex digits>"}
 * }</pre>
 *
 * The service signs each callback with {@code callbackSecret} ({@link CallbackSignatures}) and
 * echoes {@code jobId}, {@code attempt} and {@code fencingToken} in every event; {@code deadline}
 * is absent when the attempt has none.
 */
public final class HttpAttemptRequest {

  private HttpAttemptRequest() {}

  /** The path an attempt's callbacks are POSTed to: the attempt is named {@code <jobId>.<n>}. */
  public static String callbackPath(String jobId, int attempt) {
    return "/api/v1/attempts/" + jobId + "." + attempt + "/events";
  }

  /**
   * @param callbackBase Shepherd's public base URL, without a trailing path ({@code
   *     https://shepherd.example})
   */
  public static URI callbackUrl(URI callbackBase, AttemptRequest attempt) {
    String base = callbackBase.toString();
    if (base.endsWith("/")) {
      base = base.substring(0, base.length() - 1);
    }
    return URI.create(base + callbackPath(attempt.jobId(), attempt.attempt()));
  }

  /** The body POSTed to run {@code attempt}. */
  public static String body(AttemptRequest attempt, URI callbackUrl, String callbackSecret) {
    ObjectNode body = Json.mapper().createObjectNode();
    body.put("jobId", attempt.jobId());
    body.put("type", attempt.type());
    body.put("attempt", attempt.attempt());
    body.put("fencingToken", attempt.fencingToken());
    body.set("payload", attempt.payload() == null ? NullNode.getInstance() : attempt.payload());
    if (attempt.deadline() != null) {
      body.put("deadline", attempt.deadline().toString());
    }
    body.put("callbackUrl", callbackUrl.toString());
    body.put("callbackSecret", callbackSecret);
    return Json.mapper().writeValueAsString(body);
  }
}
