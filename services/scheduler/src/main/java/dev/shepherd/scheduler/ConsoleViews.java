package dev.shepherd.scheduler;

import dev.shepherd.engine.access.Caller;
import dev.shepherd.scheduler.console.ConsolePages;
import dev.shepherd.scheduler.console.Html;
import dev.shepherd.scheduler.console.Viewer;
import jakarta.servlet.http.HttpServletRequest;
import java.net.URI;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.ProblemDetail;
import org.springframework.http.ResponseEntity;
import org.springframework.security.web.csrf.CsrfToken;
import org.springframework.stereotype.Component;

/**
 * What every console page needs (ADR 42): who looks ({@link Viewer}: its name, what it may see, the
 * CSRF token its forms carry), HTML and redirect answers, and the page after an action.
 */
@Component
class ConsoleViews {

  private static final MediaType HTML =
      new MediaType(MediaType.TEXT_HTML, java.nio.charset.StandardCharsets.UTF_8);

  private final Access access;

  ConsoleViews(Access access) {
    this.access = access;
  }

  /** After an action: back to {@code back} with a notice, or a page with the API's refusal. */
  ResponseEntity<String> after(
      HttpServletRequest request, ResponseEntity<?> answer, String back, String done) {
    if (answer.getStatusCode().is2xxSuccessful()) {
      return redirect(back + "?notice=" + Html.url(done));
    }
    String detail =
        answer.getBody() instanceof ProblemDetail p && p.getDetail() != null
            ? p.getDetail()
            : "refused (" + answer.getStatusCode().value() + ")";
    return html(
        HttpStatus.valueOf(answer.getStatusCode().value()),
        ConsolePages.message("Not done", detail, back, viewer(request)));
  }

  Viewer viewer(HttpServletRequest request) {
    Caller caller = access.caller();
    boolean unchecked = caller == Caller.UNCHECKED;
    CsrfToken token = (CsrfToken) request.getAttribute(CsrfToken.class.getName());
    return new Viewer(
        unchecked ? null : caller.name(),
        !unchecked && ConsoleKeyCookieFilter.keyOf(request).isPresent(),
        unchecked || Caller.ALL_TENANTS.equals(caller.tenant()),
        unchecked || access.policy().isAdmin(caller),
        token == null ? null : token.getParameterName(),
        token == null ? null : token.getToken());
  }

  static Viewer anonymous(HttpServletRequest request) {
    CsrfToken token = (CsrfToken) request.getAttribute(CsrfToken.class.getName());
    return new Viewer(
        null,
        false,
        false,
        false,
        token == null ? null : token.getParameterName(),
        token == null ? null : token.getToken());
  }

  static ResponseEntity<String> html(HttpStatus status, String page) {
    return ResponseEntity.status(status).contentType(HTML).body(page);
  }

  static ResponseEntity<String> redirect(String to) {
    return ResponseEntity.status(HttpStatus.SEE_OTHER).location(URI.create(to)).build();
  }

  static String blankToNull(String s) {
    return s == null || s.isBlank() ? null : s.trim();
  }
}
