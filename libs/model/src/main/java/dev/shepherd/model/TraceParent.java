package dev.shepherd.model;

import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * A W3C trace context ({@code traceparent: 00-<trace-id>-<parent-id>-<flags>}). The submit call's
 * context (or a new one) is stored with the job and travels, as a child, on the work message and on
 * every status event, so one trace id ties a job's whole life together in logs and traces.
 */
public record TraceParent(String traceId, String parentId, String flags) {

  public static final String HEADER = "traceparent";

  private static final Pattern FORMAT =
      Pattern.compile("00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})");
  private static final SecureRandom RANDOM = new SecureRandom();

  /** Parses a header value; empty when it is absent or not a valid version-00 traceparent. */
  public static Optional<TraceParent> parse(String header) {
    if (header == null) {
      return Optional.empty();
    }
    var m = FORMAT.matcher(header.trim());
    if (!m.matches() || m.group(1).equals("0".repeat(32)) || m.group(2).equals("0".repeat(16))) {
      return Optional.empty();
    }
    return Optional.of(new TraceParent(m.group(1), m.group(2), m.group(3)));
  }

  /** A new trace, sampled. */
  public static TraceParent newRoot() {
    return new TraceParent(hex(16), hex(8), "01");
  }

  /** The same trace, with a new span as the parent of what comes next. */
  public TraceParent child() {
    return new TraceParent(traceId, hex(8), flags);
  }

  private static String hex(int bytes) {
    byte[] b = new byte[bytes];
    RANDOM.nextBytes(b);
    return HexFormat.of().formatHex(b);
  }

  @Override
  public String toString() {
    return "00-" + traceId + "-" + parentId + "-" + flags;
  }
}
