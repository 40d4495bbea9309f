package dev.shepherd.scheduler;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Random;

/**
 * Submission bodies a hostile or broken producer might send, from one seed: valid ones, valid JSON
 * of the wrong shape, wrong field types, unknown fields, truncated and non-UTF-8 bytes, deep
 * nesting, huge numbers and strings, control characters and lone surrogates. The same seed gives
 * the same bodies, so a failure is reproduced by its seed and index. No body repeats an idempotency
 * key, so each accepted one is a new job.
 */
final class SubmissionFuzz {

  private static final List<String> TYPES =
      List.of("demo.noop", "demo.noop", "site.generate", "demo.flaky", "no.such", "", "DEMO.NOOP");

  private final Random random;

  SubmissionFuzz(long seed) {
    this.random = new Random(seed);
  }

  /** The {@code i}-th body. */
  byte[] next(int i) {
    return switch (random.nextInt(13)) {
      case 0, 1 -> utf8(submission(i, false));
      case 2 -> utf8(submission(i, true));
      case 3 -> utf8(value(3));
      case 4 -> utf8(wrongTypes(i));
      case 5 -> {
        String whole = submission(i, false);
        yield utf8(whole.substring(0, random.nextInt(Math.max(1, whole.length()))));
      }
      case 6 -> {
        byte[] bytes = new byte[random.nextInt(200)];
        random.nextBytes(bytes);
        yield bytes;
      }
      case 7 -> {
        int depth = 50 + random.nextInt(450);
        yield utf8(
            "{\"type\":\"demo.noop\",\"payload\":{\"a\":"
                + "[".repeat(depth)
                + "]".repeat(depth)
                + "}}");
      }
      case 8 ->
          utf8(
              "{\"type\":\"demo.noop\",\"maxAttempts\":"
                  + "9".repeat(1 + random.nextInt(2000))
                  + ",\"payload\":{\"n\":1e"
                  + random.nextInt(1_000_000)
                  + "}}");
      case 9 ->
          utf8(
              "{\"type\":\"demo.noop\",\"payload\":{\"s\":\""
                  // now and then past the 256 KiB payload limit, mostly small
                  + "x"
                      .repeat(
                          random.nextInt(10) == 0
                              ? 250 * 1024 + random.nextInt(60 * 1024)
                              : random.nextInt(2000))
                  + "\"}}");
      case 10 -> new byte[0];
      case 11 ->
          utf8(
              "{\"type\":\"demo.noop\u0000\",\"payload\":{\"s\":\"\\ud800\\u0000\"},"
                  + "\"idempotencyKey\":\"\\udfff-"
                  + i
                  + "\"}");
      default -> utf8("{\"type\":\"demo.noop\",\"type\":\"site.generate\",\"payload\":{}}");
    };
  }

  private String submission(int i, boolean unknownFields) {
    StringBuilder b = new StringBuilder("{\"type\":").append(quote(pick(TYPES)));
    b.append(",\"payload\":").append(random.nextInt(5) == 0 ? value(2) : object(3));
    if (random.nextBoolean()) {
      b.append(",\"idempotencyKey\":").append(quote("fuzz-" + i + "-" + random.nextInt(1000)));
    }
    if (random.nextInt(4) == 0) {
      b.append(",\"maxAttempts\":").append(random.nextInt(300) - 100);
    }
    if (random.nextInt(4) == 0) {
      b.append(",\"notBefore\":")
          .append(
              random.nextBoolean()
                  ? quote("2026-12-0" + (1 + random.nextInt(9)) + "T00:00:00Z")
                  : quote(randomString(12)));
    }
    if (random.nextInt(5) == 0) {
      b.append(",\"orderingKey\":").append(quote(randomString(1 + random.nextInt(300))));
    }
    if (random.nextInt(5) == 0) {
      b.append(",\"concurrencyKey\":").append(quote(randomString(1 + random.nextInt(20))));
    }
    if (random.nextInt(5) == 0) {
      b.append(",\"timeouts\":{\"startToClose\":")
          .append(quote(pick(List.of("PT1M", "-PT1S", "x", "P1D"))));
      b.append("}");
    }
    if (unknownFields) {
      b.append(",").append(quote(randomString(8))).append(":").append(value(2));
    }
    return b.append("}").toString();
  }

  private String wrongTypes(int i) {
    return "{\"type\":"
        + pick(List.of("1", "true", "null", "[]", "{}", "\"demo.noop\""))
        + ",\"payload\":"
        + pick(List.of("\"text\"", "1", "null", "[]", "{}"))
        + ",\"maxAttempts\":"
        + pick(List.of("\"3\"", "3.5", "null", "[]", "3"))
        + ",\"idempotencyKey\":"
        + pick(List.of("1", "\"\"", "null", "\"wt-" + i + "\""))
        + "}";
  }

  private String object(int depth) {
    StringBuilder b = new StringBuilder("{");
    int fields = random.nextInt(4);
    for (int f = 0; f < fields; f++) {
      if (f > 0) {
        b.append(',');
      }
      b.append(quote(randomString(1 + random.nextInt(8)))).append(':').append(value(depth - 1));
    }
    return b.append('}').toString();
  }

  private String value(int depth) {
    int kind = random.nextInt(depth <= 0 ? 5 : 7);
    return switch (kind) {
      case 0 -> "null";
      case 1 -> Boolean.toString(random.nextBoolean());
      case 2 -> Long.toString(random.nextLong());
      case 3 -> Double.toString(random.nextGaussian() * 1e6);
      case 4 -> quote(randomString(random.nextInt(30)));
      case 5 -> object(depth);
      default -> {
        StringBuilder b = new StringBuilder("[");
        int n = random.nextInt(4);
        for (int k = 0; k < n; k++) {
          if (k > 0) {
            b.append(',');
          }
          b.append(value(depth - 1));
        }
        yield b.append(']').toString();
      }
    };
  }

  private String randomString(int length) {
    StringBuilder b = new StringBuilder(length);
    for (int k = 0; k < length; k++) {
      int c =
          switch (random.nextInt(6)) {
            case 0 -> 0x20 + random.nextInt(0x5f);
            case 1 -> 0x00a0 + random.nextInt(0x2000);
            case 2 -> 0x4e00 + random.nextInt(0x5000);
            default -> 'a' + random.nextInt(26);
          };
      b.append((char) c);
    }
    return b.toString();
  }

  private static String quote(String s) {
    StringBuilder b = new StringBuilder("\"");
    for (char c : s.toCharArray()) {
      switch (c) {
        case '"' -> b.append("\\\"");
        case '\\' -> b.append("\\\\");
        default -> {
          if (c < 0x20) {
            b.append(String.format("\\u%04x", (int) c));
          } else {
            b.append(c);
          }
        }
      }
    }
    return b.append('"').toString();
  }

  private <T> T pick(List<T> options) {
    return options.get(random.nextInt(options.size()));
  }

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }
}
