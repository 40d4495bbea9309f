package dev.shepherd.testsupport;

import java.security.SecureRandom;

/**
 * A unique, short, lowercase prefix per test class, usable as a Redis key prefix and a RabbitMQ
 * name prefix, so tests share the machine's broker and Redis without seeing each other.
 */
public final class TestNames {

  private static final SecureRandom RANDOM = new SecureRandom();
  private static final String ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz";

  private final String prefix;

  public TestNames() {
    StringBuilder b = new StringBuilder("t");
    for (int i = 0; i < 8; i++) {
      b.append(ALPHABET.charAt(RANDOM.nextInt(ALPHABET.length())));
    }
    this.prefix = b.toString();
  }

  public String prefix() {
    return prefix;
  }

  /** {@code base} made unique to this test class. */
  public String unique(String base) {
    return prefix + "-" + base;
  }
}
