package dev.shepherd.scheduler;

import dev.shepherd.model.Json;
import java.net.URI;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;

/**
 * Successful answers of the API: a record or list written by Shepherd's own mapper ({@link
 * Json#mapper()}), the one the contracts are tested against, not Spring's, so a view reads the same
 * here as in a message or in Redis.
 */
final class JsonResponses {

  private JsonResponses() {}

  /** 200 with the body. */
  static ResponseEntity<String> ok(Object body) {
    return with(HttpStatus.OK, null, body);
  }

  /** 202 with the body and, when not null, the location of the job it is about. */
  static ResponseEntity<String> accepted(URI location, Object body) {
    return with(HttpStatus.ACCEPTED, location, body);
  }

  /** The body's status and, when not null, the location of the job it is about. */
  static ResponseEntity<String> with(HttpStatus status, URI location, Object body) {
    ResponseEntity.BodyBuilder builder = ResponseEntity.status(status);
    if (location != null) {
      builder.location(location);
    }
    return builder
        .contentType(MediaType.APPLICATION_JSON)
        .body(Json.mapper().writeValueAsString(body));
  }

  /** Where a job is read: {@code /api/v1/jobs/<id>}. */
  static URI jobLocation(String jobId) {
    return URI.create("/api/v1/jobs/" + jobId);
  }
}
