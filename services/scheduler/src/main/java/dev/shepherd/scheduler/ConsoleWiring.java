package dev.shepherd.scheduler;

import dev.shepherd.engine.access.PolicySource;
import jakarta.servlet.DispatcherType;
import jakarta.servlet.http.HttpServletRequest;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.annotation.Order;
import org.springframework.http.HttpHeaders;
import org.springframework.http.ResponseCookie;
import org.springframework.security.config.annotation.web.builders.HttpSecurity;
import org.springframework.security.config.http.SessionCreationPolicy;
import org.springframework.security.oauth2.jwt.JwtDecoder;
import org.springframework.security.web.AuthenticationEntryPoint;
import org.springframework.security.web.SecurityFilterChain;
import org.springframework.security.web.authentication.session.NullAuthenticatedSessionStrategy;
import org.springframework.security.web.authentication.www.BasicAuthenticationFilter;
import org.springframework.security.web.csrf.CookieCsrfTokenRepository;

/**
 * The console's security (ADR 42): the API's authentication (an {@code X-Api-Key} or a bearer
 * token) plus a browser's key kept in a cookie by the sign-in form; CSRF tokens on every POST a
 * browser makes with that cookie. A browser that is not signed in is sent to the sign-in page.
 */
@Configuration(proxyBeanMethods = false)
class ConsoleWiring {

  /** The CSRF token's cookie: HttpOnly, since only the server-rendered forms carry the token. */
  static final String CSRF_COOKIE = "shepherd_console_csrf";

  /** The cookie that drops the CSRF token: a new one is made for the next page (at sign-in). */
  static ResponseCookie dropCsrfToken(boolean secure) {
    return ResponseCookie.from(CSRF_COOKIE, "")
        .httpOnly(true)
        .secure(secure)
        .sameSite("Strict")
        .path(ConsoleController.BASE)
        .maxAge(0)
        .build();
  }

  /** Sends the live overview's updates of every open console. */
  @Bean(destroyMethod = "shutdownNow")
  ScheduledExecutorService consoleLive() {
    return Executors.newSingleThreadScheduledExecutor(
        Thread.ofPlatform().name("shepherd-console-live").daemon().factory());
  }

  @Bean
  @Order(1)
  SecurityFilterChain console(
      HttpSecurity http,
      AccessProperties properties,
      PolicySource policy,
      ObjectProvider<JwtDecoder> jwtDecoder)
      throws Exception {
    CookieCsrfTokenRepository csrfTokens = new CookieCsrfTokenRepository();
    csrfTokens.setCookieName(CSRF_COOKIE);
    csrfTokens.setCookiePath(ConsoleController.BASE);
    csrfTokens.setCookieCustomizer(c -> c.sameSite("Strict").httpOnly(true));
    http.securityMatcher(ConsoleController.BASE, ConsoleController.BASE + "/**")
        // a call with a header credential cannot be forged by another site's form: no CSRF token
        .csrf(
            c ->
                c.csrfTokenRepository(csrfTokens)
                    .ignoringRequestMatchers(ConsoleWiring::byHeader)
                    // Stateless, every request authenticates anew: Spring's default would drop the
                    // token on each one, and a page's form would post a token already gone. The
                    // token is renewed at sign-in instead (ConsoleController#login).
                    .sessionAuthenticationStrategy(new NullAuthenticatedSessionStrategy()))
        .sessionManagement(s -> s.sessionCreationPolicy(SessionCreationPolicy.STATELESS))
        .requestCache(cache -> cache.disable())
        .formLogin(form -> form.disable())
        .httpBasic(basic -> basic.disable())
        .logout(logout -> logout.disable())
        .headers(
            h ->
                h.contentSecurityPolicy(
                    csp ->
                        csp.policyDirectives(
                            "default-src 'self'; object-src 'none'; base-uri 'none';"
                                + " frame-ancestors 'none'; form-action 'self'")));
    if (!properties.enabled()) {
      http.authorizeHttpRequests(a -> a.anyRequest().permitAll());
      return http.build();
    }
    AuthenticationEntryPoint refuse = AccessWiring::unauthenticated;
    AuthenticationEntryPoint signIn =
        (request, response, e) -> {
          if (byHeader(request)) {
            refuse.commence(request, response, e);
          } else {
            response.sendRedirect(ConsoleController.BASE + "/login");
          }
        };
    http.authorizeHttpRequests(
            a ->
                a.dispatcherTypeMatchers(DispatcherType.ASYNC, DispatcherType.ERROR)
                    .permitAll()
                    .requestMatchers(
                        ConsoleController.BASE + "/login",
                        ConsoleController.BASE + "/console.css",
                        ConsoleController.BASE + "/overview.js")
                    .permitAll()
                    .anyRequest()
                    .authenticated())
        .exceptionHandling(
            e -> e.authenticationEntryPoint(signIn).accessDeniedHandler(AccessWiring.denied()))
        .addFilterBefore(new ApiKeyFilter(policy, refuse), BasicAuthenticationFilter.class)
        .addFilterAfter(new ConsoleKeyCookieFilter(policy), ApiKeyFilter.class);
    JwtDecoder decoder = jwtDecoder.getIfAvailable();
    if (decoder != null) {
      http.oauth2ResourceServer(
          o ->
              o.authenticationEntryPoint(refuse)
                  .jwt(
                      j ->
                          j.decoder(decoder)
                              .jwtAuthenticationConverter(
                                  jwt -> AccessWiring.caller(jwt, properties.jwt()))));
    }
    return http.build();
  }

  /** Whether the request carries the API's credentials in a header (never sent by a form). */
  static boolean byHeader(HttpServletRequest request) {
    return request.getHeader(ApiKeyFilter.HEADER) != null
        || request.getHeader(HttpHeaders.AUTHORIZATION) != null;
  }
}
