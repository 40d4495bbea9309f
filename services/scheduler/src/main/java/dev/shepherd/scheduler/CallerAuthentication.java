package dev.shepherd.scheduler;

import dev.shepherd.engine.access.Caller;
import java.util.List;
import org.springframework.security.authentication.AbstractAuthenticationToken;

/** An authenticated caller, by API key or bearer token (ADR 40). */
final class CallerAuthentication extends AbstractAuthenticationToken {

  private final Caller caller;

  CallerAuthentication(Caller caller) {
    super(List.of());
    this.caller = caller;
    setAuthenticated(true);
  }

  Caller caller() {
    return caller;
  }

  @Override
  public Object getCredentials() {
    return "";
  }

  @Override
  public Object getPrincipal() {
    return caller;
  }

  @Override
  public String getName() {
    return caller.name();
  }
}
