package dev.shepherd.model;

import java.util.HexFormat;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;

/**
 * A W3C trace context ({@code traceparent: 00-<trace-id>-<parent-id>-<flags>}). The submit call's
 * context is stored with the job (without one, the job's trace is its own id's, {@link #ofJob}, and
 * nothing is stored: ADR 54) and travels, as a child, on the work message and on every status
 * event, so one trace id ties a job's whole life together in logs and traces.
 */
public record TraceParent(String traceId, String parentId, String flags) {

  public static final String HEADER = "traceparent";

  /** {@code 00-}, 32 hex digits, {@code -}, 16, {@code -}, 2. */
  private static final int LENGTH = 55;

  /** Parses a header value; empty when it is absent or not a valid version-00 traceparent. */
  public static Optional<TraceParent> parse(String header) {
    if (header == null) {
      return Optional.empty();
    }
    String h = header.trim();
    if (h.length() != LENGTH
        || !h.startsWith("00-")
        || h.charAt(35) != '-'
        || h.charAt(52) != '-'
        || !lowerHex(h, 3, 35)
        || !lowerHex(h, 36, 52)
        || !lowerHex(h, 53, 55)) {
      return Optional.empty();
    }
    String traceId = h.substring(3, 35);
    String parentId = h.substring(36, 52);
    if (allZero(traceId) || allZero(parentId)) {
      return Optional.empty();
    }
    return Optional.of(new TraceParent(traceId, parentId, h.substring(53, 55)));
  }

  private static boolean lowerHex(String s, int from, int to) {
    for (int i = from; i < to; i++) {
      char c = s.charAt(i);
      if (!(c >= '0' && c <= '9') && !(c >= 'a' && c <= 'f')) {
        return false;
      }
    }
    return true;
  }

  private static boolean allZero(String hex) {
    for (int i = 0; i < hex.length(); i++) {
      if (hex.charAt(i) != '0') {
        return false;
      }
    }
    return true;
  }

  /**
   * The trace of a job whose submission carried none (ADR 54): its trace id is the 32 hex digits of
   * its id ({@code 07-3f2a...}, {@link JobIds#newId}), its parent the last 16 of them, sampled. A
   * job's id is a random UUID, so these are as unique as {@link #newRoot}'s, and anyone holding the
   * id finds the trace. Empty for an id not of that form.
   */
  public static Optional<TraceParent> ofJob(String jobId) {
    if (jobId == null
        || jobId.length() != 35
        || jobId.charAt(2) != '-'
        || !lowerHex(jobId, 3, 35)) {
      return Optional.empty();
    }
    String traceId = jobId.substring(3);
    String parentId = jobId.substring(19);
    if (allZero(traceId) || allZero(parentId)) {
      return Optional.empty();
    }
    return Optional.of(new TraceParent(traceId, parentId, "01"));
  }

  /**
   * The trace a stored job continues: the one stored with it ({@code stored}, the submission's),
   * else its own ({@link #ofJob}); null when neither is valid.
   */
  public static String ofStored(String stored, String jobId) {
    return stored(stored, jobId).map(TraceParent::toString).orElse(null);
  }

  /** {@link #ofStored} parsed: the stored traceparent, else the job's own trace. */
  public static Optional<TraceParent> stored(String stored, String jobId) {
    return parse(stored).or(() -> ofJob(jobId));
  }

  /** A new trace, sampled. */
  public static TraceParent newRoot() {
    return new TraceParent(hex(16), hex(8), "01");
  }

  /** The same trace, with a new span as the parent of what comes next. */
  public TraceParent child() {
    return new TraceParent(traceId, hex(8), flags);
  }

  /**
   * A random id of {@code bytes} bytes, never all zero (the W3C format forbids it). Trace and span
   * ids need to be unique, not secret: a thread-local generator, as OpenTelemetry's own, instead of
   * SecureRandom, which cost about 1 % of a worker's CPU for the span of each status event.
   */
  private static String hex(int bytes) {
    byte[] b = new byte[bytes];
    var random = ThreadLocalRandom.current();
    do {
      random.nextBytes(b);
    } while (allZero(b));
    return HexFormat.of().formatHex(b);
  }

  private static boolean allZero(byte[] b) {
    for (byte x : b) {
      if (x != 0) {
        return false;
      }
    }
    return true;
  }

  @Override
  public String toString() {
    return "00-" + traceId + "-" + parentId + "-" + flags;
  }
}
