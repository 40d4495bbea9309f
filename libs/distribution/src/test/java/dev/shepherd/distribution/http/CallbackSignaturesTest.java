package dev.shepherd.distribution.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.shepherd.distribution.http.CallbackSignatures.AttemptKey;
import dev.shepherd.distribution.http.CallbackSignatures.Refusal;
import dev.shepherd.distribution.http.CallbackSignatures.Verdict;
import dev.shepherd.testsupport.SettableClock;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

/** Only the attempt's own service, reporting now, can sign a callback that verifies. */
class CallbackSignaturesTest {

  static final byte[] KEY = "0123456789abcdef0123456789abcdef".getBytes(StandardCharsets.UTF_8);
  private static final Instant NOW = Instant.parse("2026-12-01T10:00:00Z");
  private static final AttemptKey ATTEMPT = new AttemptKey("07-3f2a", 2, 1_796_170_800_000_017L);
  private static final String PATH = HttpAttemptRequest.callbackPath("07-3f2a", 2);
  private static final String BODY = "{\"event\":\"PROGRESS\",\"percent\":40}";

  private final SettableClock clock = new SettableClock(NOW);
  private final CallbackSignatures signatures =
      new CallbackSignatures(KEY, Duration.ofMinutes(5), clock);

  private String now() {
    return Long.toString(clock.instant().getEpochSecond());
  }

  private String signedBy(String secret, String timestamp, String body) {
    return CallbackSignatures.sign(secret, "POST", PATH, timestamp, body);
  }

  private Verdict verify(AttemptKey claimed, String timestamp, String signature, String body) {
    return signatures.verify(ATTEMPT, claimed, "POST", PATH, timestamp, signature, body);
  }

  @Test
  void theAttemptsOwnSignatureIsAccepted() {
    String sig = signedBy(signatures.secret(ATTEMPT), now(), BODY);

    assertThat(verify(ATTEMPT, now(), sig, BODY)).isEqualTo(new Verdict.Accepted());
  }

  @Test
  void aForgedSignatureIsRefused() {
    var otherKey = new CallbackSignatures("f".repeat(32).getBytes(), Duration.ofMinutes(5), clock);
    String forged = signedBy(otherKey.secret(ATTEMPT), now(), BODY);

    assertThat(verify(ATTEMPT, now(), forged, BODY))
        .isInstanceOfSatisfying(
            Verdict.Refused.class, r -> assertThat(r.refusal()).isEqualTo(Refusal.BAD_SIGNATURE));
  }

  @Test
  void aBodyChangedAfterSigningIsRefused() {
    String sig = signedBy(signatures.secret(ATTEMPT), now(), BODY);

    assertThat(verify(ATTEMPT, now(), sig, BODY.replace("40", "100")))
        .isEqualTo(
            new Verdict.Refused(
                Refusal.BAD_SIGNATURE, "the signature does not match the callback for " + ATTEMPT));
  }

  @Test
  void aSignatureForAnotherPathOrMethodIsRefused() {
    String secret = signatures.secret(ATTEMPT);
    String otherPath =
        CallbackSignatures.sign(secret, "POST", "/api/v1/attempts/x.1/events", now(), BODY);
    String otherMethod = CallbackSignatures.sign(secret, "PUT", PATH, now(), BODY);

    assertThat(verify(ATTEMPT, now(), otherPath, BODY)).isInstanceOf(Verdict.Refused.class);
    assertThat(verify(ATTEMPT, now(), otherMethod, BODY)).isInstanceOf(Verdict.Refused.class);
  }

  @Test
  void aReplayedCallbackOlderThanTheToleranceIsRefused() {
    String then = now();
    String sig = signedBy(signatures.secret(ATTEMPT), then, BODY);

    clock.advance(Duration.ofMinutes(5));
    assertThat(verify(ATTEMPT, then, sig, BODY))
        .as("at the edge")
        .isEqualTo(new Verdict.Accepted());

    clock.advance(Duration.ofSeconds(1));
    assertThat(verify(ATTEMPT, then, sig, BODY))
        .isInstanceOfSatisfying(
            Verdict.Refused.class,
            r -> {
              assertThat(r.refusal()).isEqualTo(Refusal.STALE_TIMESTAMP);
              assertThat(r.reason()).contains("refused as a possible replay");
            });
  }

  @Test
  void aTimestampFarInTheFutureIsRefusedToo() {
    String later = Long.toString(NOW.plus(Duration.ofMinutes(6)).getEpochSecond());
    String sig = signedBy(signatures.secret(ATTEMPT), later, BODY);

    assertThat(verify(ATTEMPT, later, sig, BODY))
        .isInstanceOfSatisfying(
            Verdict.Refused.class, r -> assertThat(r.refusal()).isEqualTo(Refusal.STALE_TIMESTAMP));
  }

  @Test
  void aCallbackClaimingAnotherAttemptIsRefusedAsWrongAttempt() {
    var earlier = new AttemptKey("07-3f2a", 1, 1_796_170_700_000_001L);
    String sig = signedBy(signatures.secret(earlier), now(), BODY);

    assertThat(verify(earlier, now(), sig, BODY))
        .isEqualTo(
            new Verdict.Refused(
                Refusal.WRONG_ATTEMPT,
                "the callback reports for " + earlier + " but was sent for " + ATTEMPT));
  }

  @Test
  void aCallbackSignedWithAnOlderClaimsSecretDoesNotVerify() {
    // the old claim's service learns the new token and claims it, but signs with what it holds
    var olderClaim = new AttemptKey(ATTEMPT.jobId(), ATTEMPT.attempt(), ATTEMPT.fencingToken() - 1);
    String sig = signedBy(signatures.secret(olderClaim), now(), BODY);

    assertThat(verify(ATTEMPT, now(), sig, BODY))
        .isInstanceOfSatisfying(
            Verdict.Refused.class, r -> assertThat(r.refusal()).isEqualTo(Refusal.BAD_SIGNATURE));
  }

  @Test
  void malformedHeadersAreRefusedWithTheirName() {
    String sig = signedBy(signatures.secret(ATTEMPT), now(), BODY);

    assertThat(verify(ATTEMPT, null, sig, BODY))
        .isEqualTo(
            new Verdict.Refused(
                Refusal.STALE_TIMESTAMP, "Shepherd-Timestamp must be epoch seconds, was 'null'"));
    assertThat(verify(ATTEMPT, now(), null, BODY))
        .isInstanceOfSatisfying(
            Verdict.Refused.class, r -> assertThat(r.reason()).startsWith("Shepherd-Signature"));
    assertThat(verify(ATTEMPT, now(), "v1=zz", BODY))
        .isInstanceOfSatisfying(
            Verdict.Refused.class, r -> assertThat(r.refusal()).isEqualTo(Refusal.BAD_SIGNATURE));
    assertThat(verify(ATTEMPT, now(), sig.substring(3), BODY))
        .as("without its version")
        .isInstanceOf(Verdict.Refused.class);
  }

  @Test
  void secretsAreDerivedPerClaimAndTheSameOnEveryScheduler() {
    var anotherScheduler = new CallbackSignatures(KEY.clone(), Duration.ofMinutes(1), clock);

    assertThat(anotherScheduler.secret(ATTEMPT)).isEqualTo(signatures.secret(ATTEMPT)).hasSize(64);
    assertThat(signatures.secret(new AttemptKey("07-3f2a", 3, ATTEMPT.fencingToken())))
        .isNotEqualTo(signatures.secret(ATTEMPT));
    assertThat(signatures.secret(new AttemptKey("07-3f2a", 2, ATTEMPT.fencingToken() + 1)))
        .isNotEqualTo(signatures.secret(ATTEMPT));
  }

  @Test
  void aShortServerKeyIsRefused() {
    assertThatThrownBy(() -> new CallbackSignatures(new byte[16], Duration.ofMinutes(5), clock))
        .hasMessageContaining("at least 32 bytes");
  }
}
