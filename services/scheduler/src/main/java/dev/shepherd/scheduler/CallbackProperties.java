package dev.shepherd.scheduler;

import dev.shepherd.distribution.http.CallbackSignatures;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.springframework.boot.context.properties.ConfigurationProperties;

/**
 * The scheduler's part of {@code shepherd.distribution.*} (ADR 45): what it needs to check the
 * callbacks of services that run attempts for workers. The workers that run such attempts read the
 * same prefix for their types and the callback URL.
 *
 * @param serverKey the key every attempt's callback secret is derived from, the same on the
 *     scheduler and on the workers that run http types: at least 32 bytes. When not set, callbacks
 *     are refused (404) and no job type can run on an HTTP service
 * @param callbackTolerance how far a callback's timestamp may be from now, either way, before it is
 *     refused as a possible replay (5 minutes when not set)
 */
@ConfigurationProperties("shepherd.distribution")
public record CallbackProperties(String serverKey, Duration callbackTolerance) {

  public CallbackProperties {
    if (serverKey != null && serverKey.isBlank()) {
      serverKey = null;
    }
    if (serverKey != null
        && serverKey.getBytes(StandardCharsets.UTF_8).length < CallbackSignatures.MIN_KEY_BYTES) {
      throw new IllegalArgumentException(
          "shepherd.distribution.server-key must be at least "
              + CallbackSignatures.MIN_KEY_BYTES
              + " bytes (generate one with: openssl rand -hex 32)");
    }
    callbackTolerance =
        callbackTolerance == null ? CallbackSignatures.DEFAULT_TOLERANCE : callbackTolerance;
    if (!callbackTolerance.isPositive()) {
      throw new IllegalArgumentException(
          "shepherd.distribution.callback-tolerance must be positive, was " + callbackTolerance);
    }
  }

  /** The key's bytes, or null when none is set. */
  byte[] serverKeyBytes() {
    return serverKey == null ? null : serverKey.getBytes(StandardCharsets.UTF_8);
  }

  @Override
  public String toString() {
    return "CallbackProperties[serverKey="
        + (serverKey == null ? "none" : "(set)")
        + ", callbackTolerance="
        + callbackTolerance
        + "]";
  }
}
