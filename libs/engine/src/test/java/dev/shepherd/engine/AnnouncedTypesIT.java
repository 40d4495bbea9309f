package dev.shepherd.engine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.shepherd.contracts.Contracts;
import dev.shepherd.engine.intake.AnnouncedTypes;
import dev.shepherd.engine.intake.IntakeResult;
import dev.shepherd.engine.intake.IntakeResult.Problem;
import dev.shepherd.engine.intake.JobTypeCatalog;
import dev.shepherd.engine.intake.SubmissionIntake;
import dev.shepherd.engine.recovery.KnownPools;
import dev.shepherd.model.JobTimeouts;
import dev.shepherd.model.JobTypeView;
import dev.shepherd.model.Json;
import dev.shepherd.model.WorkerView;
import dev.shepherd.store.AnnouncedType;
import dev.shepherd.store.JobTypeRegistry;
import dev.shepherd.store.StoreSettings;
import dev.shepherd.testsupport.ServiceEndpoints;
import dev.shepherd.testsupport.TestNames;
import dev.shepherd.testsupport.WithRealServices;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.data.redis.core.StringRedisTemplate;

/**
 * Job types announced by workers (ADR 35), against the real Redis: the intake accepts a type only
 * an announcement names, judges its payloads by the announced schema, takes its defaults, forgets
 * it past the retention, and refuses it with the reason when its schema does not compile; the
 * configuration wins over an announcement; recovery's pools grow by the announced ones.
 */
@WithRealServices
class AnnouncedTypesIT {

  private static final String REPORT_SCHEMA =
      """
      {"type": "object",
       "properties": {"title": {"type": "string", "minLength": 1}, "pages": {"type": "integer"}},
       "required": ["title"], "additionalProperties": false}
      """;

  private EngineFixture fixture;
  private JobTypeRegistry registry;
  private SubmissionIntake intake;
  private JobTypeCatalog catalog;

  @BeforeEach
  void setUp(ServiceEndpoints endpoints, TestNames names) {
    fixture = new EngineFixture(endpoints, names);
    registry =
        new JobTypeRegistry(
            new StringRedisTemplate(fixture.redisConnections),
            new StoreSettings(fixture.prefix, 4, Duration.ofDays(7)),
            fixture.clock);
    catalog =
        new JobTypeCatalog(fixture.topology, Map.of(), 3)
            .withAnnounced(
                new AnnouncedTypes(
                    registry, new Contracts(), fixture.clock, Duration.ofHours(1), Duration.ZERO));
    intake =
        new SubmissionIntake(
            new Contracts(),
            catalog,
            fixture.store.submissions(),
            id -> {},
            new SimpleMeterRegistry());
  }

  @AfterEach
  void tearDown() {
    fixture.close();
  }

  private IntakeResult submit(String json) {
    return intake.submit(json.getBytes(StandardCharsets.UTF_8));
  }

  private void announce(String type, String pool, String schema, Integer attempts) {
    registry.announce(
        "w-1",
        pool,
        List.of(
            new AnnouncedType(
                type,
                pool,
                schema == null ? null : Json.mapper().readTree(schema),
                attempts,
                new JobTimeouts(Duration.ofMinutes(5), null),
                null,
                null)));
  }

  @Test
  void anAnnouncedTypeIsAcceptedWithItsPoolAndDefaultsAndItsPayloadsAreJudgedByItsSchema() {
    String job = "{\"type\":\"report.render\",\"payload\":{\"title\":\"Q3\",\"pages\":2}}";
    assertThat(submit(job))
        .isInstanceOfSatisfying(
            IntakeResult.Rejected.class,
            r -> assertThat(r.problem()).isEqualTo(Problem.UNKNOWN_JOB_TYPE));

    announce("report.render", "reports", REPORT_SCHEMA, 2);

    var accepted = (IntakeResult.Accepted) submit(job);
    var stored = fixture.store.queries().find(accepted.receipt().jobId()).orElseThrow();
    assertThat(stored.pool()).isEqualTo("reports");
    assertThat(stored.maxAttempts()).isEqualTo(2);
    assertThat(catalog.timeoutsOf("report.render").startToClose()).isEqualTo(Duration.ofMinutes(5));

    var wrong =
        (IntakeResult.Rejected)
            submit("{\"type\":\"report.render\",\"payload\":{\"title\":\"\",\"pages\":\"two\"}}");
    assertThat(wrong.problem()).isEqualTo(Problem.INVALID_PAYLOAD);
    assertThat(wrong.violations())
        .extracting(Contracts.Violation::field)
        .containsExactlyInAnyOrder("/payload/title", "/payload/pages");
  }

  @Test
  void anAnnouncementOlderThanTheRetentionNoLongerCounts() {
    announce("report.render", "reports", null, null);
    String job = "{\"type\":\"report.render\",\"payload\":{}}";
    assertThat(submit(job)).isInstanceOf(IntakeResult.Accepted.class);
    fixture.clock.advance(Duration.ofMinutes(59));
    assertThat(submit(job)).as("recently seen").isInstanceOf(IntakeResult.Accepted.class);
    fixture.clock.advance(Duration.ofMinutes(2));
    assertThat(submit(job))
        .isInstanceOfSatisfying(
            IntakeResult.Rejected.class,
            r -> assertThat(r.problem()).isEqualTo(Problem.UNKNOWN_JOB_TYPE));
    announce("report.render", "reports", null, null); // a worker of the pool is back
    assertThat(submit(job)).isInstanceOf(IntakeResult.Accepted.class);
  }

  @Test
  void aSchemaThatDoesNotCompileRefusesItsTypeSayingWhy() {
    announce("report.render", "reports", "{\"type\": 5}", null);
    var refused = (IntakeResult.Rejected) submit("{\"type\":\"report.render\",\"payload\":{}}");
    assertThat(refused.problem()).isEqualTo(Problem.INVALID_PAYLOAD);
    assertThat(refused.detail()).contains("report.render").contains("is not a JSON Schema");
  }

  @Test
  void theConfigurationWinsOverAnAnnouncement() {
    // the fixture's configuration gives demo.noop to pool default, with no schema of its own
    announce("demo.noop", "elsewhere", "{\"type\": \"object\", \"required\": [\"x\"]}", 9);
    var accepted = (IntakeResult.Accepted) submit("{\"type\":\"demo.noop\",\"payload\":{}}");
    var stored = fixture.store.queries().find(accepted.receipt().jobId()).orElseThrow();
    assertThat(stored.pool()).isEqualTo("default");
    assertThat(stored.maxAttempts()).isEqualTo(3);

    announce("report.render", "reports", REPORT_SCHEMA, 2);
    List<WorkerView> workers =
        List.of(
            new WorkerView(
                "w-1",
                "h",
                null,
                "reports",
                4,
                null,
                "active",
                null,
                null,
                null,
                List.of("report.render")),
            new WorkerView(
                "w-2",
                "h",
                null,
                "reports",
                4,
                null,
                "lost",
                null,
                null,
                null,
                List.of("report.render")));
    List<JobTypeView> views = catalog.views(workers);
    assertThat(views)
        .extracting(JobTypeView::type, JobTypeView::pool, JobTypeView::source)
        .contains(
            org.assertj.core.groups.Tuple.tuple("demo.noop", "default", JobTypeView.CONFIGURATION),
            org.assertj.core.groups.Tuple.tuple("report.render", "reports", JobTypeView.ANNOUNCED));
    JobTypeView report =
        views.stream().filter(v -> v.type().equals("report.render")).findFirst().orElseThrow();
    assertThat(report.workers()).as("the lost worker is not listed").containsExactly("w-1");
    assertThat(report.payloadSchema().path("required").toString()).isEqualTo("[\"title\"]");
  }

  @Test
  void recoveryWalksEveryPoolEverAnnouncedBesideTheConfiguredOnes() {
    List<String> appeared = new ArrayList<>();
    var pools = new KnownPools(List.of("default"), registry, fixture.clock, Duration.ZERO);
    pools.forEachPool(appeared::add);
    assertThat(pools.get()).containsExactly("default");
    announce("report.render", "reports", null, null);
    assertThat(pools.get()).containsExactly("default", "reports");
    assertThat(appeared).containsExactly("default", "reports");
    fixture.clock.advance(Duration.ofDays(30));
    assertThat(pools.get()).as("a pool never leaves").contains("reports");
    assertThat(appeared).as("each pool once").containsExactly("default", "reports");
  }
}
