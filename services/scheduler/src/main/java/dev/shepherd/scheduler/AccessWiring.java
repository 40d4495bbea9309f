package dev.shepherd.scheduler;

import dev.shepherd.engine.access.Caller;
import dev.shepherd.engine.access.PolicySource;
import dev.shepherd.engine.access.RateLimiter;
import dev.shepherd.engine.access.Tenants;
import dev.shepherd.model.Json;
import jakarta.servlet.DispatcherType;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.web.servlet.FilterRegistrationBean;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.Ordered;
import org.springframework.http.HttpMethod;
import org.springframework.security.authentication.AbstractAuthenticationToken;
import org.springframework.security.config.annotation.web.builders.HttpSecurity;
import org.springframework.security.config.annotation.web.configuration.EnableWebSecurity;
import org.springframework.security.config.http.SessionCreationPolicy;
import org.springframework.security.core.AuthenticationException;
import org.springframework.security.core.userdetails.UserDetailsService;
import org.springframework.security.core.userdetails.UsernameNotFoundException;
import org.springframework.security.oauth2.jwt.Jwt;
import org.springframework.security.oauth2.jwt.JwtDecoder;
import org.springframework.security.oauth2.server.resource.InvalidBearerTokenException;
import org.springframework.security.web.AuthenticationEntryPoint;
import org.springframework.security.web.SecurityFilterChain;
import org.springframework.security.web.access.AccessDeniedHandler;
import org.springframework.security.web.authentication.www.BasicAuthenticationFilter;

/**
 * Authentication of the API (ADR 40): an {@code X-Api-Key} of the policy's keys or a bearer token
 * of the configured issuer, for every {@code /api} path; probes, metrics and the API's own docs
 * stay open. With {@code shepherd.security.enabled=false} every call passes, as anonymous.
 */
@Configuration(proxyBeanMethods = false)
@EnableWebSecurity
class AccessWiring {

  @Bean
  PolicySource policySource(AccessProperties properties) {
    return new PolicySource(properties.configured(), properties.policyFile());
  }

  @Bean
  RateLimiter submitRateLimiter(AccessProperties properties, Clock clock) {
    return new RateLimiter(
        properties.submitRate().perSecond(), properties.submitRate().burst(), clock);
  }

  /** Reads the policy file again when it changes, so grants change without a restart. */
  @Bean(destroyMethod = "shutdownNow")
  ScheduledExecutorService policyRefresh(AccessProperties properties, PolicySource policy) {
    ScheduledExecutorService refresh =
        Executors.newSingleThreadScheduledExecutor(
            Thread.ofPlatform().name("shepherd-policy-refresh").daemon().factory());
    if (properties.policyFile() != null) {
      long every = Math.max(100, properties.policyRefresh().toMillis());
      refresh.scheduleWithFixedDelay(policy::refresh, every, every, TimeUnit.MILLISECONDS);
    }
    return refresh;
  }

  @Bean
  FilterRegistrationBean<BodyLimitFilter> bodyLimit(AccessProperties properties) {
    var registration =
        new FilterRegistrationBean<>(new BodyLimitFilter(properties.maxBody().toBytes()));
    registration.setOrder(Ordered.HIGHEST_PRECEDENCE + 10);
    return registration;
  }

  /** No user names and passwords: callers are keys and tokens (and no generated password). */
  @Bean
  UserDetailsService noUsers() {
    return name -> {
      throw new UsernameNotFoundException(name);
    };
  }

  @Bean
  SecurityFilterChain api(
      HttpSecurity http,
      AccessProperties properties,
      PolicySource policy,
      ObjectProvider<JwtDecoder> jwtDecoder)
      throws Exception {
    http.csrf(csrf -> csrf.disable())
        .sessionManagement(s -> s.sessionCreationPolicy(SessionCreationPolicy.STATELESS))
        .requestCache(cache -> cache.disable())
        .formLogin(form -> form.disable())
        .httpBasic(basic -> basic.disable())
        .logout(logout -> logout.disable());
    if (!properties.enabled()) {
      http.authorizeHttpRequests(a -> a.anyRequest().permitAll());
      return http.build();
    }
    JwtDecoder decoder = jwtDecoder.getIfAvailable();
    if (decoder == null && policy.current().keys().isEmpty() && properties.policyFile() == null) {
      throw new IllegalStateException(
          "shepherd.security: no API key (shepherd.security.api-keys), no policy file"
              + " (shepherd.security.policy-file) and no token issuer"
              + " (spring.security.oauth2.resourceserver.jwt.issuer-uri or jwk-set-uri): nobody"
              + " could call the API. Configure one, or set shepherd.security.enabled=false on a"
              + " closed development machine");
    }
    AuthenticationEntryPoint refuse = AccessWiring::unauthenticated;
    http.authorizeHttpRequests(
            a ->
                // an event stream's completion and an error page are dispatched again without the
                // request's credentials: the request itself was checked
                a.dispatcherTypeMatchers(DispatcherType.ASYNC, DispatcherType.ERROR)
                    .permitAll()
                    // a service's callback is signed with its attempt's secret instead (ADR 45)
                    .requestMatchers(HttpMethod.POST, "/api/v1/attempts/*/events")
                    .permitAll()
                    .requestMatchers("/api/**")
                    .authenticated()
                    .anyRequest()
                    .permitAll())
        .exceptionHandling(e -> e.authenticationEntryPoint(refuse).accessDeniedHandler(denied()))
        .addFilterBefore(new ApiKeyFilter(policy, refuse), BasicAuthenticationFilter.class);
    if (decoder != null) {
      http.oauth2ResourceServer(
          o ->
              o.authenticationEntryPoint(refuse)
                  .jwt(
                      j ->
                          j.decoder(decoder)
                              .jwtAuthenticationConverter(jwt -> caller(jwt, properties.jwt()))));
    }
    return http.build();
  }

  /** The caller a verified token names: its subject, its tenant claim and its groups claim. */
  static AbstractAuthenticationToken caller(Jwt jwt, AccessProperties.Jwt claims) {
    String tenant = jwt.getClaimAsString(claims.tenantClaim());
    if (tenant == null || tenant.isBlank()) {
      throw new InvalidBearerTokenException(
          "the token has no '" + claims.tenantClaim() + "' claim naming the caller's tenant");
    }
    try {
      Tenants.requireValid(tenant, "the token's '" + claims.tenantClaim() + "' claim");
    } catch (IllegalArgumentException e) {
      throw new InvalidBearerTokenException(e.getMessage());
    }
    if (jwt.getSubject() == null || jwt.getSubject().isBlank()) {
      throw new InvalidBearerTokenException("the token has no subject");
    }
    Object raw = jwt.getClaims().get(claims.groupsClaim());
    List<String> groups = new ArrayList<>();
    if (raw instanceof Collection<?> many) {
      many.forEach(g -> groups.add(String.valueOf(g)));
    } else if (raw instanceof String some) {
      groups.addAll(Arrays.asList(some.trim().split("\\s+")));
    }
    return new CallerAuthentication(new Caller(jwt.getSubject(), tenant, Set.copyOf(groups)));
  }

  static void unauthenticated(
      jakarta.servlet.http.HttpServletRequest request,
      HttpServletResponse response,
      AuthenticationException e)
      throws IOException {
    response.setHeader("WWW-Authenticate", "ApiKey header=\"X-Api-Key\", Bearer");
    problem(
        response,
        401,
        "Unauthenticated",
        request.getHeader(ApiKeyFilter.HEADER) == null && request.getHeader("Authorization") == null
            ? "this call needs an X-Api-Key header or a bearer token"
            : "the credentials were refused: " + e.getMessage());
  }

  static AccessDeniedHandler denied() {
    return (request, response, e) -> problem(response, 403, "Forbidden", e.getMessage());
  }

  static void problem(HttpServletResponse response, int status, String title, String detail)
      throws IOException {
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("type", "https://shepherd.dev/problems/" + title.toLowerCase().replace(' ', '-'));
    body.put("title", title);
    body.put("status", status);
    body.put("detail", detail);
    response.setStatus(status);
    response.setContentType("application/problem+json");
    response.getWriter().write(Json.mapper().writeValueAsString(body));
  }
}
