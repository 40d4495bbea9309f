package dev.shepherd.scheduler;

import dev.shepherd.engine.access.PolicySource;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import org.springframework.security.authentication.BadCredentialsException;
import org.springframework.security.core.context.SecurityContextHolder;
import org.springframework.security.web.AuthenticationEntryPoint;
import org.springframework.web.filter.OncePerRequestFilter;

/**
 * Authenticates a request that carries {@code X-Api-Key}: a configured key makes its principal the
 * caller; any other key is refused at once with 401 (it does not fall through to anonymous).
 */
final class ApiKeyFilter extends OncePerRequestFilter {

  static final String HEADER = "X-Api-Key";

  private final PolicySource policy;
  private final AuthenticationEntryPoint refuse;

  ApiKeyFilter(PolicySource policy, AuthenticationEntryPoint refuse) {
    this.policy = policy;
    this.refuse = refuse;
  }

  @Override
  protected void doFilterInternal(
      HttpServletRequest request, HttpServletResponse response, FilterChain chain)
      throws ServletException, IOException {
    String key = request.getHeader(HEADER);
    if (key == null) {
      chain.doFilter(request, response);
      return;
    }
    var caller = policy.current().keys().authenticate(key.trim());
    if (caller.isEmpty()) {
      SecurityContextHolder.clearContext();
      refuse.commence(request, response, new BadCredentialsException("unknown API key"));
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
