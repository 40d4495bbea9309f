package dev.shepherd.scheduler;

import java.net.URI;
import java.util.List;
import org.springframework.dao.DataAccessException;
import org.springframework.dao.DataAccessResourceFailureException;
import org.springframework.dao.TransientDataAccessException;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.http.HttpStatusCode;
import org.springframework.http.MediaType;
import org.springframework.http.ProblemDetail;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.ExceptionHandler;
import org.springframework.web.bind.annotation.RestControllerAdvice;
import org.springframework.web.context.request.WebRequest;
import org.springframework.web.servlet.mvc.method.annotation.ResponseEntityExceptionHandler;

/**
 * Every error of the API as problem+json (RFC 9457): our own rejections, and Spring MVC's (wrong
 * content type, bad parameter, unknown path) through {@link ResponseEntityExceptionHandler}.
 */
@RestControllerAdvice
class Problems extends ResponseEntityExceptionHandler {

  /** The most entries one listing answers ({@code limit}). */
  static final int MAX_LIST = 1000;

  /**
   * One broken rule in a problem's {@code errors} (problem.schema.json).
   *
   * @param field the request field or parameter that breaks it
   * @param message the rule it breaks
   */
  record FieldError(String field, String message) {}

  static ResponseEntity<Object> response(ProblemDetail problem) {
    return ResponseEntity.status(problem.getStatus())
        .contentType(MediaType.APPLICATION_PROBLEM_JSON)
        .body(problem);
  }

  static ResponseEntity<Object> notFound(String detail) {
    ProblemDetail problem = ProblemDetail.forStatusAndDetail(HttpStatus.NOT_FOUND, detail);
    problem.setTitle("Not found");
    return response(problem);
  }

  static ResponseEntity<Object> badRequest(String field, String message) {
    ProblemDetail problem =
        ProblemDetail.forStatusAndDetail(HttpStatus.BAD_REQUEST, field + ": " + message);
    problem.setTitle("Invalid parameter");
    problem.setProperty("errors", List.of(new FieldError(field, message)));
    return response(problem);
  }

  /** A listing's {@code limit} outside 1 to {@link #MAX_LIST}. */
  static ResponseEntity<Object> limitOutOfRange() {
    return badRequest("limit", "must be between 1 and " + MAX_LIST);
  }

  @Override
  protected ResponseEntity<Object> handleExceptionInternal(
      Exception ex, Object body, HttpHeaders headers, HttpStatusCode status, WebRequest request) {
    ResponseEntity<Object> entity =
        super.handleExceptionInternal(ex, body, headers, status, request);
    if (entity != null && entity.getBody() instanceof ProblemDetail problem) {
      return ResponseEntity.status(entity.getStatusCode())
          .headers(entity.getHeaders())
          .contentType(MediaType.APPLICATION_PROBLEM_JSON)
          .body(problem);
    }
    return entity;
  }

  @ExceptionHandler(Access.Denied.class)
  ResponseEntity<Object> denied(Access.Denied e) {
    ProblemDetail problem = ProblemDetail.forStatusAndDetail(HttpStatus.FORBIDDEN, e.getMessage());
    problem.setTitle("Forbidden");
    problem.setType(URI.create("https://shepherd.dev/problems/forbidden"));
    return response(problem);
  }

  @ExceptionHandler(Access.Throttled.class)
  ResponseEntity<Object> throttled(Access.Throttled e) {
    ProblemDetail problem =
        ProblemDetail.forStatusAndDetail(HttpStatus.TOO_MANY_REQUESTS, e.getMessage());
    problem.setTitle("Too many requests");
    problem.setType(URI.create("https://shepherd.dev/problems/too-many-requests"));
    return ResponseEntity.status(HttpStatus.TOO_MANY_REQUESTS)
        .header(
            HttpHeaders.RETRY_AFTER,
            Long.toString(Math.max(1, (e.retryAfter.toMillis() + 999) / 1000)))
        .contentType(MediaType.APPLICATION_PROBLEM_JSON)
        .body(problem);
  }

  @ExceptionHandler(IllegalArgumentException.class)
  ResponseEntity<Object> illegalArgument(IllegalArgumentException e) {
    ProblemDetail problem =
        ProblemDetail.forStatusAndDetail(HttpStatus.BAD_REQUEST, e.getMessage());
    problem.setTitle("Bad request");
    problem.setType(URI.create("https://shepherd.dev/problems/bad-request"));
    return response(problem);
  }

  /**
   * Redis cannot take the call now: down, failing over, or (with {@code
   * shepherd.store.replicas-to-acknowledge}) its replicas did not confirm a submission in time. 503
   * with {@code Retry-After}, so the producer submits again; its idempotency key finds a copy that
   * did survive.
   */
  @ExceptionHandler({TransientDataAccessException.class, DataAccessResourceFailureException.class})
  ResponseEntity<Object> storeUnavailable(DataAccessException e) {
    ProblemDetail problem =
        ProblemDetail.forStatusAndDetail(
            HttpStatus.SERVICE_UNAVAILABLE,
            "the job store cannot take the request now (Redis down, failing over, or its replicas"
                + " behind); it was not accepted: send it again, with the same idempotency key");
    problem.setTitle("Service unavailable");
    problem.setType(URI.create("https://shepherd.dev/problems/unavailable"));
    return ResponseEntity.status(HttpStatus.SERVICE_UNAVAILABLE)
        .header(HttpHeaders.RETRY_AFTER, "1")
        .contentType(MediaType.APPLICATION_PROBLEM_JSON)
        .body(problem);
  }
}
