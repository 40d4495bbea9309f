package dev.shepherd.engine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.shepherd.contracts.Contracts;
import dev.shepherd.engine.intake.ConcurrencyLimits;
import dev.shepherd.engine.intake.IntakeResult;
import dev.shepherd.engine.intake.IntakeResult.Problem;
import dev.shepherd.engine.intake.JobTypeCatalog;
import dev.shepherd.engine.intake.SubmissionIntake;
import dev.shepherd.model.JobState;
import dev.shepherd.testsupport.ServiceEndpoints;
import dev.shepherd.testsupport.TestNames;
import dev.shepherd.testsupport.WithRealServices;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

@WithRealServices
class SubmissionIntakeIT {

  private EngineFixture fixture;
  private SubmissionIntake intake;
  private final AtomicInteger wakeUps = new AtomicInteger();
  private final io.micrometer.core.instrument.simple.SimpleMeterRegistry meters =
      new io.micrometer.core.instrument.simple.SimpleMeterRegistry();

  @BeforeEach
  void setUp(ServiceEndpoints endpoints, TestNames names) {
    fixture = new EngineFixture(endpoints, names);
    var catalog =
        new JobTypeCatalog(
            fixture.topology,
            Map.of("site.generate", 5),
            3,
            Map.of(),
            new ConcurrencyLimits(1, Map.of("demo.noop", 2), Map.of("vip", 3)));
    intake =
        new SubmissionIntake(
            new Contracts(),
            catalog,
            fixture.store.submissions(),
            id -> wakeUps.incrementAndGet(),
            meters);
  }

  @AfterEach
  void tearDown() {
    fixture.close();
  }

  private IntakeResult submit(String json) {
    return intake.submit(json.getBytes(StandardCharsets.UTF_8));
  }

  private IntakeResult.Rejected rejected(String json) {
    IntakeResult result = submit(json);
    assertThat(result).isInstanceOf(IntakeResult.Rejected.class);
    return (IntakeResult.Rejected) result;
  }

  @Test
  void aValidSubmissionIsStoredWithTheTypesAttemptsAndWakesTheDispatcher() {
    var result = submit("{\"type\":\"site.generate\",\"payload\":{\"site\":\"bugs.example\"}}");
    assertThat(result).isInstanceOf(IntakeResult.Accepted.class);
    String id = ((IntakeResult.Accepted) result).receipt().jobId();
    var job = fixture.store.queries().find(id).orElseThrow();
    assertThat(job.state()).isEqualTo(JobState.SUBMITTED);
    assertThat(job.maxAttempts()).isEqualTo(5);
    assertThat(job.pool()).isEqualTo("default");
    assertThat(wakeUps).hasValue(1);
    assertThat(
            meters
                .counter("shepherd.jobs.submitted", "type", "site.generate", "pool", "default")
                .count())
        .isEqualTo(1.0);
  }

  @Test
  void aRepeatedIdempotencyKeyIsADuplicateOfTheFirstJob() {
    String json = "{\"type\":\"demo.noop\",\"payload\":{},\"idempotencyKey\":\"abc\"}";
    var first = (IntakeResult.Accepted) submit(json);
    var second = submit(json);
    assertThat(second).isInstanceOf(IntakeResult.Duplicate.class);
    assertThat(((IntakeResult.Duplicate) second).receipt().jobId())
        .isEqualTo(first.receipt().jobId());
  }

  @Test
  void aConcurrencyKeysLimitIsTheKeysOwnElseItsTypesElseTheDefault() {
    assertThat(limitOf("{\"type\":\"demo.noop\",\"payload\":{},\"concurrencyKey\":\"vip\"}"))
        .isEqualTo("3");
    assertThat(limitOf("{\"type\":\"demo.noop\",\"payload\":{},\"concurrencyKey\":\"db\"}"))
        .isEqualTo("2");
    assertThat(
            limitOf(
                "{\"type\":\"site.generate\",\"payload\":{\"site\":\"a\"},"
                    + "\"concurrencyKey\":\"db\"}"))
        .isEqualTo("1");
  }

  /** The concurrency limit stored with the job the submission made. */
  private String limitOf(String json) {
    String id = ((IntakeResult.Accepted) submit(json)).receipt().jobId();
    var job = fixture.store.queries().find(id).orElseThrow();
    assertThat(job.concurrencyKey()).isNotNull();
    return (String)
        new org.springframework.data.redis.core.StringRedisTemplate(fixture.redisConnections)
            .opsForHash()
            .get(fixture.store.keys().job(id), "concurrencyLimit");
  }

  @Test
  void anOrderingKeyAndAConcurrencyKeyTogetherAreRejectedNamingTheField() {
    var r =
        rejected(
            "{\"type\":\"demo.noop\",\"payload\":{},\"orderingKey\":\"a\","
                + "\"concurrencyKey\":\"b\"}");
    assertThat(r.problem()).isEqualTo(Problem.INVALID_SUBMISSION);
    assertThat(r.violations())
        .singleElement()
        .satisfies(v -> assertThat(v.field()).isEqualTo("/concurrencyKey"));
  }

  @Test
  void malformedJsonIsRejected() {
    assertThat(rejected("{\"type\":").problem()).isEqualTo(Problem.MALFORMED_JSON);
    assertThat(rejected("").problem()).isEqualTo(Problem.MALFORMED_JSON);
  }

  @Test
  void nonUtf8BytesAreRejected() {
    var result = intake.submit(new byte[] {'{', (byte) 0xC3, (byte) 0x28, '}'});
    assertThat(((IntakeResult.Rejected) result).problem()).isEqualTo(Problem.MALFORMED_JSON);
  }

  @Test
  void aMissingFieldIsNamed() {
    var r = rejected("{\"payload\":{}}");
    assertThat(r.problem()).isEqualTo(Problem.INVALID_SUBMISSION);
    assertThat(r.violations())
        .anySatisfy(v -> assertThat(v.field() + v.message()).contains("type"));
  }

  @Test
  void aMalformedDateIsRejectedNamingTheFieldNotAServerError() {
    var r = rejected("{\"type\":\"demo.noop\",\"payload\":{},\"notBefore\":\"yesterday\"}");
    assertThat(r.problem()).isEqualTo(Problem.INVALID_SUBMISSION);
    assertThat(r.violations())
        .singleElement()
        .satisfies(v -> assertThat(v.field()).isEqualTo("/notBefore"));
  }

  @Test
  void anUnknownJobTypeIsRejected() {
    var r = rejected("{\"type\":\"no.such.type\",\"payload\":{}}");
    assertThat(r.problem()).isEqualTo(Problem.UNKNOWN_JOB_TYPE);
    assertThat(r.violations())
        .singleElement()
        .satisfies(v -> assertThat(v.field()).isEqualTo("/type"));
  }

  @Test
  void aPayloadThatBreaksItsTypesSchemaIsRejectedNamingTheField() {
    var r = rejected("{\"type\":\"site.generate\",\"payload\":{\"phaseMillis\":\"slow\"}}");
    assertThat(r.problem()).isEqualTo(Problem.INVALID_PAYLOAD);
    assertThat(r.violations()).allSatisfy(v -> assertThat(v.field()).startsWith("/payload"));
  }

  @Test
  void aPayloadOver256KiBIsRejected() {
    String big = "x".repeat(SubmissionIntake.MAX_PAYLOAD_BYTES);
    var r = rejected("{\"type\":\"demo.noop\",\"payload\":{\"blob\":\"" + big + "\"}}");
    assertThat(r.problem()).isEqualTo(Problem.PAYLOAD_TOO_LARGE);
    assertThat(r.problem().httpStatus()).isEqualTo(413);
    assertThat(fixture.store.queries().outboxSize()).isZero();
  }
}
