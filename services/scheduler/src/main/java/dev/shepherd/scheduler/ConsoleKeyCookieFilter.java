package dev.shepherd.scheduler;

import dev.shepherd.engine.access.PolicySource;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.Cookie;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.util.Optional;
import org.springframework.http.HttpHeaders;
import org.springframework.http.ResponseCookie;
import org.springframework.security.core.context.SecurityContextHolder;
import org.springframework.web.filter.OncePerRequestFilter;

/**
 * Authenticates a console request by the API key its browser signed in with (ADR 42): the key is
 * kept in an HttpOnly, SameSite=Strict cookie of the console's path and checked against the policy
 * on every request, so a key removed from the policy stops working at once. A request that carries
 * {@code X-Api-Key} or {@code Authorization} is the API's way, left to those filters.
 */
final class ConsoleKeyCookieFilter extends OncePerRequestFilter {

  /** The cookie that holds the console's key. */
  static final String COOKIE = "shepherd_console_key";

  private final PolicySource policy;

  ConsoleKeyCookieFilter(PolicySource policy) {
    this.policy = policy;
  }

  /** The cookie that keeps {@code key} for the browser's session (no expiry: gone on close). */
  static ResponseCookie signIn(String key, boolean secure) {
    return ResponseCookie.from(COOKIE, key)
        .httpOnly(true)
        .secure(secure)
        .sameSite("Strict")
        .path(ConsoleController.BASE)
        .build();
  }

  /** The cookie that removes the key from the browser. */
  static ResponseCookie signOut(boolean secure) {
    return ResponseCookie.from(COOKIE, "")
        .httpOnly(true)
        .secure(secure)
        .sameSite("Strict")
        .path(ConsoleController.BASE)
        .maxAge(0)
        .build();
  }

  /** The key the request's cookie holds, if any. */
  static Optional<String> keyOf(HttpServletRequest request) {
    if (request.getCookies() == null) {
      return Optional.empty();
    }
    for (Cookie c : request.getCookies()) {
      if (COOKIE.equals(c.getName()) && !c.getValue().isBlank()) {
        return Optional.of(c.getValue());
      }
    }
    return Optional.empty();
  }

  @Override
  protected void doFilterInternal(
      HttpServletRequest request, HttpServletResponse response, FilterChain chain)
      throws ServletException, IOException {
    Optional<String> key = keyOf(request);
    if (key.isEmpty()
        || request.getHeader(ApiKeyFilter.HEADER) != null
        || request.getHeader(HttpHeaders.AUTHORIZATION) != null
        || SecurityContextHolder.getContext().getAuthentication() != null) {
      chain.doFilter(request, response);
      return;
    }
    var caller = policy.current().keys().authenticate(key.get());
    if (caller.isEmpty()) {
      // a key no longer in the policy: forget it; the entry point sends the browser to sign in
      response.addHeader(HttpHeaders.SET_COOKIE, signOut(request.isSecure()).toString());
      chain.doFilter(request, response);
      return;
    }
    var context = SecurityContextHolder.createEmptyContext();
    context.setAuthentication(new CallerAuthentication(caller.get()));
    SecurityContextHolder.setContext(context);
    try {
      chain.doFilter(request, response);
    } finally {
      SecurityContextHolder.clearContext();
    }
  }
}
