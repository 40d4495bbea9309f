package dev.shepherd.distribution.http;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Signs and checks the callbacks an HTTP service makes for an attempt, as webhooks are signed: an
 * HMAC-SHA256 over the method, path, timestamp and body, with a secret only that attempt has.
 *
 * <p>The secret is derived, not stored: HMAC-SHA256 of the server key over the job id, attempt
 * number and fencing token. Any scheduler holding the key computes it again from the attempt record
 * it already reads, nothing is written per attempt, and a secret leaked by one service signs for
 * that one attempt only. A callback signed for another attempt, or for an older claim of the same
 * one, does not verify.
 *
 * <pre>{@code
 * POST /api/v1/attempts/07-3f2a....2/events
 * Shepherd-Timestamp: 1796170800
 * Shepherd-Signature: v1=<hex HMAC-SHA256(secret, "POST\n" + path + "\n" + timestamp + "\n" + body)>
 * }</pre>
 */
public final class CallbackSignatures {

  public static final String TIMESTAMP_HEADER = "Shepherd-Timestamp";
  public static final String SIGNATURE_HEADER = "Shepherd-Signature";

  /** A callback older (or further in the future) than this is refused as a replay. */
  public static final Duration DEFAULT_TOLERANCE = Duration.ofMinutes(5);

  /** The shortest server key accepted: as long as the HMAC's output. */
  public static final int MIN_KEY_BYTES = 32;

  private static final String ALGORITHM = "HmacSHA256";
  private static final String VERSION = "v1=";
  private static final HexFormat HEX = HexFormat.of();

  /** The attempt a callback is for: the secret is derived from all three. */
  public record AttemptKey(String jobId, int attempt, long fencingToken) {
    @Override
    public String toString() {
      return "job " + jobId + " attempt " + attempt + " fencing token " + fencingToken;
    }
  }

  /** Why a callback is refused. */
  public enum Refusal {
    /** No signature, a malformed one, or one that does not match the body. */
    BAD_SIGNATURE,
    /** No timestamp, or one outside the tolerance: possibly a replay. */
    STALE_TIMESTAMP,
    /** The callback says it is for another attempt or claim than the one it was sent to. */
    WRONG_ATTEMPT,
    /** The body is not a status event. */
    UNREADABLE
  }

  /** The outcome of a check: accepted, or refused with a reason a person can act on. */
  public sealed interface Verdict {
    record Accepted() implements Verdict {}

    record Refused(Refusal refusal, String reason) implements Verdict {}
  }

  private final byte[] serverKey;
  private final Duration tolerance;
  private final Clock clock;

  public CallbackSignatures(byte[] serverKey, Duration tolerance, Clock clock) {
    if (serverKey == null || serverKey.length < MIN_KEY_BYTES) {
      throw new IllegalArgumentException(
          "the callback signing key needs at least " + MIN_KEY_BYTES + " bytes");
    }
    if (!tolerance.isPositive()) {
      throw new IllegalArgumentException("the timestamp tolerance must be positive");
    }
    this.serverKey = serverKey.clone();
    this.tolerance = tolerance;
    this.clock = clock;
  }

  /** The secret the attempt's service signs its callbacks with, in hex, sent with the attempt. */
  public String secret(AttemptKey attempt) {
    return HEX.formatHex(secretBytes(attempt));
  }

  /** The {@value #SIGNATURE_HEADER} value for a callback: what the service computes. */
  public static String sign(
      String secretHex, String method, String path, String timestamp, String body) {
    return VERSION
        + HEX.formatHex(hmac(HEX.parseHex(secretHex), canonical(method, path, timestamp, body)));
  }

  /**
   * Checks a callback received for {@code expected}.
   *
   * @param expected the attempt the callback was sent to (its path), with the fencing token
   *     Shepherd holds for it
   * @param claimed the attempt the callback's body says it reports for
   * @param timestamp the {@value #TIMESTAMP_HEADER} header, epoch seconds
   * @param signature the {@value #SIGNATURE_HEADER} header
   */
  public Verdict verify(
      AttemptKey expected,
      AttemptKey claimed,
      String method,
      String path,
      String timestamp,
      String signature,
      String body) {
    if (!expected.equals(claimed)) {
      return new Verdict.Refused(
          Refusal.WRONG_ATTEMPT,
          "the callback reports for " + claimed + " but was sent for " + expected);
    }
    Instant at;
    try {
      at = Instant.ofEpochSecond(Long.parseLong(timestamp == null ? "" : timestamp.strip()));
    } catch (NumberFormatException | java.time.DateTimeException e) {
      return new Verdict.Refused(
          Refusal.STALE_TIMESTAMP,
          TIMESTAMP_HEADER + " must be epoch seconds, was '" + timestamp + "'");
    }
    Duration age = Duration.between(at, clock.instant());
    if (age.abs().compareTo(tolerance) > 0) {
      return new Verdict.Refused(
          Refusal.STALE_TIMESTAMP,
          "the callback is timestamped "
              + at
              + ", more than "
              + tolerance
              + " from now: refused as a possible replay");
    }
    if (signature == null || !signature.startsWith(VERSION)) {
      return new Verdict.Refused(
          Refusal.BAD_SIGNATURE, SIGNATURE_HEADER + " must be 'v1=' and a hex HMAC-SHA256");
    }
    byte[] presented;
    try {
      presented = HEX.parseHex(signature.substring(VERSION.length()));
    } catch (IllegalArgumentException e) {
      return new Verdict.Refused(
          Refusal.BAD_SIGNATURE, SIGNATURE_HEADER + " must be 'v1=' and a hex HMAC-SHA256");
    }
    byte[] wanted = hmac(secretBytes(expected), canonical(method, path, timestamp.strip(), body));
    // constant time: how much of a guess matched must not show in how long the refusal took
    if (!MessageDigest.isEqual(wanted, presented)) {
      return new Verdict.Refused(
          Refusal.BAD_SIGNATURE, "the signature does not match the callback for " + expected);
    }
    return new Verdict.Accepted();
  }

  private byte[] secretBytes(AttemptKey attempt) {
    return hmac(
        serverKey,
        "shepherd-callback-secret-v1\n"
            + attempt.jobId()
            + "\n"
            + attempt.attempt()
            + "\n"
            + attempt.fencingToken());
  }

  static String canonical(String method, String path, String timestamp, String body) {
    return method + "\n" + path + "\n" + timestamp + "\n" + (body == null ? "" : body);
  }

  private static byte[] hmac(byte[] key, String data) {
    try {
      Mac mac = Mac.getInstance(ALGORITHM);
      mac.init(new SecretKeySpec(key, ALGORITHM));
      return mac.doFinal(data.getBytes(StandardCharsets.UTF_8));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("every Java runtime has " + ALGORITHM, e);
    }
  }
}
