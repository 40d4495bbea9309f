package dev.shepherd.scheduler;

import dev.shepherd.distribution.Notification;
import dev.shepherd.distribution.http.CallbackSignatures;
import dev.shepherd.distribution.http.HttpDistributor;
import dev.shepherd.engine.callbacks.AttemptCallbacks;
import dev.shepherd.engine.callbacks.AttemptCallbacks.Answer;
import jakarta.servlet.http.HttpServletRequest;
import java.util.HashMap;
import java.util.Map;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.http.HttpStatus;
import org.springframework.http.ProblemDetail;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestHeader;
import org.springframework.web.bind.annotation.RestController;

/**
 * The callbacks of services that run attempts ({@code POST /api/v1/attempts/<jobId>.<attempt>/
 * events}, ADR 45). A callback carries no API key: it is signed with its attempt's secret, which
 * the service got with the attempt, and checked by {@link AttemptCallbacks}.
 *
 * <pre>{@code
 * curl -X POST "$SHEPHERD/api/v1/attempts/$JOB.$ATTEMPT/events" \
 *   -H 'Content-Type: application/json' \
 *   -H "Shepherd-Timestamp: $TS" -H "Shepherd-Signature: v1=$SIG" \
 *   -d '{"event":"SUCCEEDED","jobId":"...","attempt":1,"fencingToken":...,"sequence":3}'
 * }</pre>
 *
 * <p>Answers: 202 accepted (handed to the worker holding the attempt); 400 a path or body that is
 * not a status event; 401 a signature that does not match or a timestamp outside the tolerance; 404
 * no such job (or no server key configured); 409 the attempt is over or the body names another
 * claim; 503 the worker holding the attempt cannot be reached now, with {@code Retry-After}.
 */
@RestController
class AttemptCallbacksController {

  /** How long a service should wait before sending an event its worker could not take. */
  static final String RETRY_AFTER_SECONDS = "1";

  private final ObjectProvider<AttemptCallbacks> callbacks;

  AttemptCallbacksController(ObjectProvider<AttemptCallbacks> callbacks) {
    this.callbacks = callbacks;
  }

  @PostMapping("/api/v1/attempts/{attempt}/events")
  ResponseEntity<?> event(
      @PathVariable("attempt") String attempt,
      @RequestHeader(name = CallbackSignatures.TIMESTAMP_HEADER, required = false) String timestamp,
      @RequestHeader(name = CallbackSignatures.SIGNATURE_HEADER, required = false) String signature,
      @RequestBody(required = false) String body,
      HttpServletRequest request) {
    AttemptCallbacks receiver = callbacks.getIfAvailable();
    if (receiver == null) {
      return Problems.notFound(
          "this Shepherd takes no attempt callbacks: shepherd.distribution.server-key is not set");
    }
    int dot = attempt.lastIndexOf('.');
    int number;
    try {
      number = dot < 1 ? 0 : Integer.parseInt(attempt.substring(dot + 1));
    } catch (NumberFormatException e) {
      number = 0;
    }
    if (number < 1) {
      return Problems.badRequest(
          "attempt", "the path names <jobId>.<attempt number>, was '" + attempt + "'");
    }
    Map<String, String> attributes = new HashMap<>();
    attributes.put(HttpDistributor.METHOD, request.getMethod());
    attributes.put(HttpDistributor.PATH, request.getRequestURI());
    if (timestamp != null) {
      attributes.put(CallbackSignatures.TIMESTAMP_HEADER, timestamp);
    }
    if (signature != null) {
      attributes.put(CallbackSignatures.SIGNATURE_HEADER, signature);
    }
    Answer answer =
        receiver.receive(
            attempt.substring(0, dot),
            number,
            new Notification(attributes, body == null ? "" : body));
    return switch (answer) {
      case Answer.Accepted accepted ->
          JsonResponses.accepted(
              null,
              Map.of(
                  "jobId", accepted.event().jobId(),
                  "attempt", accepted.event().attempt(),
                  "event", accepted.event().eventName()));
      case Answer.UnknownJob unknown -> Problems.notFound(unknown.detail());
      case Answer.NotCurrent late -> {
        ProblemDetail problem =
            ProblemDetail.forStatusAndDetail(HttpStatus.CONFLICT, late.detail());
        problem.setTitle("Attempt not running");
        problem.setProperty("state", late.state().name());
        problem.setProperty("currentAttempt", late.currentAttempt());
        yield Problems.response(problem);
      }
      case Answer.Refused refused -> {
        HttpStatus status =
            switch (refused.refusal()) {
              case BAD_SIGNATURE, STALE_TIMESTAMP -> HttpStatus.UNAUTHORIZED;
              case WRONG_ATTEMPT -> HttpStatus.CONFLICT;
              case UNREADABLE -> HttpStatus.BAD_REQUEST;
            };
        ProblemDetail problem = ProblemDetail.forStatusAndDetail(status, refused.detail());
        problem.setTitle("Callback refused");
        problem.setProperty("refusal", refused.refusal().name());
        yield Problems.response(problem);
      }
      case Answer.WorkerUnreachable unreachable -> {
        ProblemDetail problem =
            ProblemDetail.forStatusAndDetail(HttpStatus.SERVICE_UNAVAILABLE, unreachable.detail());
        problem.setTitle("Worker unreachable");
        yield ResponseEntity.status(HttpStatus.SERVICE_UNAVAILABLE)
            .header("Retry-After", RETRY_AFTER_SECONDS)
            .contentType(org.springframework.http.MediaType.APPLICATION_PROBLEM_JSON)
            .body(problem);
      }
    };
  }
}
