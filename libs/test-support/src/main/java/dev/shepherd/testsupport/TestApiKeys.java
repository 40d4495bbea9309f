package dev.shepherd.testsupport;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The API key the tests call the scheduler with (ADR 40): an installation-wide administrator
 * (tenant {@code *}, admin on every type), configured by {@link #adminProperties()}, which also
 * makes the broker's {@code guest} such an administrator for AMQP submissions. Tests of the access
 * policy itself configure their own keys.
 */
public final class TestApiKeys {

  /** The administrator's key, as a client presents it. */
  public static final String ADMIN_KEY = "shepherd-test-admin-4f1c9a7e2b6d";

  /** The principal that key authenticates as: what a cancel, redrive or discard records. */
  public static final String ADMIN = "test-admin";

  /** The RabbitMQ user of the tests; an AMQP submission names it in {@code user_id}. */
  public static final String BROKER_USER = "guest";

  private TestApiKeys() {}

  /** The scheduler properties that configure the administrator's key and grant. */
  public static Map<String, String> adminProperties() {
    Map<String, String> props = new LinkedHashMap<>();
    props.put("shepherd.security.api-keys[0].name", ADMIN);
    props.put("shepherd.security.api-keys[0].sha256", sha256(ADMIN_KEY));
    props.put("shepherd.security.api-keys[0].tenant", "*");
    props.put("shepherd.security.grants[0].principals[0]", ADMIN);
    // the broker's user of the tests, guest, submits over AMQP as an administrator too
    props.put("shepherd.security.amqp-users[0].name", BROKER_USER);
    props.put("shepherd.security.amqp-users[0].tenant", "*");
    props.put("shepherd.security.grants[0].principals[1]", BROKER_USER);
    props.put("shepherd.security.grants[0].types[0]", "*");
    props.put("shepherd.security.grants[0].operations[0]", "admin");
    return props;
  }

  /** A key's SHA-256 in hex, as the configuration holds it. */
  public static String sha256(String key) {
    try {
      return HexFormat.of()
          .formatHex(
              MessageDigest.getInstance("SHA-256").digest(key.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
