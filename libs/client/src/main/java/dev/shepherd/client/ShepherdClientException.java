package dev.shepherd.client;

import java.util.List;

/**
 * The scheduler refused a request or could not be reached. For an HTTP error the status and the
 * parsed problem+json are kept: {@link #title()}, {@link #detail()} and the field errors.
 *
 * <pre>{@code
 * try { client.submit(bad); }
 * catch (ShepherdClientException e) { e.fieldErrors().forEach(System.err::println); }
 * }</pre>
 */
public class ShepherdClientException extends RuntimeException {

  /** One field the scheduler named, and what is wrong with it. */
  public record FieldError(String field, String message) {}

  private final int status;
  private final String title;
  private final String detail;
  private final List<FieldError> fieldErrors;

  public ShepherdClientException(
      int status, String title, String detail, List<FieldError> fieldErrors) {
    super(status + " " + title + (detail == null ? "" : ": " + detail));
    this.status = status;
    this.title = title;
    this.detail = detail;
    this.fieldErrors = List.copyOf(fieldErrors);
  }

  public ShepherdClientException(String message, Throwable cause) {
    super(message, cause);
    this.status = 0;
    this.title = message;
    this.detail = null;
    this.fieldErrors = List.of();
  }

  /** The HTTP status, or 0 when no answer came. */
  public int status() {
    return status;
  }

  public String title() {
    return title;
  }

  public String detail() {
    return detail;
  }

  public List<FieldError> fieldErrors() {
    return fieldErrors;
  }
}
