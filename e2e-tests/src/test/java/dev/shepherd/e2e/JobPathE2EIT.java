package dev.shepherd.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.shepherd.client.ShepherdClient;
import dev.shepherd.model.DeadJob;
import dev.shepherd.model.JobState;
import dev.shepherd.model.JobSubmission;
import dev.shepherd.model.JobTimeouts;
import dev.shepherd.model.JobView;
import dev.shepherd.model.Json;
import dev.shepherd.model.PhaseView;
import dev.shepherd.testsupport.ServiceEndpoints;
import dev.shepherd.testsupport.TestNames;
import dev.shepherd.testsupport.WithRealServices;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.springframework.amqp.core.MessageBuilder;
import org.springframework.amqp.core.MessageDeliveryMode;
import org.springframework.amqp.rabbit.core.RabbitTemplate;
import tools.jackson.databind.node.ObjectNode;

/**
 * The whole job path across four services and two workers, each its own JVM: 1,000 jobs through
 * REST, the Java client and raw AMQP, each ending where its type says it must. Nothing here needs a
 * third worker: no check looks at which worker ran a job, and the 1,000 jobs are CPU-bound on a
 * small machine, where a third worker JVM only adds start-up time.
 */
@WithRealServices
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class JobPathE2EIT {

  private static final Duration AWAIT = Duration.ofMinutes(4);

  E2eSupport e2e;
  ShepherdClient client;
  private final HttpClient http = HttpClient.newHttpClient();

  @BeforeAll
  void start(ServiceEndpoints endpoints, TestNames names) {
    e2e = new E2eSupport(endpoints, names.prefix(), 2, settings());
    client = e2e.cluster.client().amqpUri(endpoints.rabbitmq()).prefix(names.prefix()).build();
  }

  /** What the services are started with beyond their defaults: retries within half a second. */
  Map<String, String> settings() {
    return Map.of(
        "shepherd.store.retry-initial-backoff", "50ms",
        "shepherd.store.retry-max-backoff", "500ms");
  }

  @AfterAll
  void stop() {
    if (client != null) {
      client.close();
    }
    if (e2e != null) {
      e2e.close();
    }
  }

  private enum Kind {
    NOOP,
    SITE,
    FLAKY,
    POISON
  }

  private static Kind kindOf(int i) {
    return switch (i % 10) {
      case 0, 1, 2, 3, 4, 5 -> Kind.NOOP;
      case 6, 7 -> Kind.SITE;
      case 8 -> Kind.FLAKY;
      default -> Kind.POISON;
    };
  }

  private static JobSubmission submission(int i, String key) {
    ObjectNode payload = Json.mapper().createObjectNode();
    JobSubmission s =
        switch (kindOf(i)) {
          case NOOP -> JobSubmission.of("demo.noop", payload.put("i", i));
          case SITE ->
              JobSubmission.of(
                  "site.generate", payload.put("site", "s" + i + ".example").put("phaseMillis", 5));
          case FLAKY ->
              JobSubmission.of(
                      "demo.flaky",
                      payload.put("failFirstAttempts", 1).put("failureProbability", 0.0))
                  .withMaxAttempts(5);
          case POISON -> JobSubmission.of("demo.poison", payload.put("i", i));
        };
    return s.withIdempotencyKey(key);
  }

  @Test
  void aThousandJobsThroughRestTheClientAmqpAndSharedAmqpMessagesEachReachTheirExpectedEnd()
      throws Exception {
    int jobs = 1000;
    String run = e2e.prefix + "-path-";
    var template = new RabbitTemplate(e2e.rabbit);
    Map<Integer, String> ids = new HashMap<>();
    List<Integer> viaAmqp = new ArrayList<>();
    List<CompletableFuture<String>> shared = new ArrayList<>();
    for (int i = 0; i < jobs; i++) {
      JobSubmission s = submission(i, run + i);
      switch (i % 4) {
        case 0 -> { // plain REST, as curl would
          var response =
              http.send(
                  HttpRequest.newBuilder(e2e.cluster.schedulerUri().resolve("/api/v1/jobs"))
                      .header("X-Api-Key", dev.shepherd.testsupport.TestApiKeys.ADMIN_KEY)
                      .header("Content-Type", "application/json")
                      .POST(
                          HttpRequest.BodyPublishers.ofByteArray(
                              Json.mapper().writeValueAsBytes(s)))
                      .build(),
                  HttpResponse.BodyHandlers.ofString());
          assertThat(response.statusCode()).as(response.body()).isEqualTo(202);
          ids.put(i, Json.mapper().readTree(response.body()).get("jobId").asString());
        }
        case 1 -> ids.put(i, client.submit(s).jobId());
        case 2 -> { // the client over AMQP, not waiting: these share messages (ADR 59)
          shared.add(client.submitViaAmqpAsync(s));
          viaAmqp.add(i);
        }
        default -> {
          template.send(
              e2e.topology.submitExchange(),
              e2e.topology.submitRoutingKey(),
              MessageBuilder.withBody(Json.mapper().writeValueAsBytes(s))
                  .setContentType("application/json")
                  .setDeliveryMode(MessageDeliveryMode.PERSISTENT)
                  .setUserId(dev.shepherd.testsupport.TestApiKeys.BROKER_USER)
                  .build());
          viaAmqp.add(i);
        }
      }
    }
    CompletableFuture.allOf(shared.toArray(CompletableFuture[]::new)).get();
    for (int i : viaAmqp) {
      ids.put(i, client.jobIdForKey(run + i, AWAIT).get());
    }
    assertThat(ids).hasSize(jobs);

    Map<Integer, CompletableFuture<JobView>> finals = new HashMap<>();
    ids.forEach((i, id) -> finals.put(i, client.await(id, AWAIT)));
    CompletableFuture.allOf(finals.values().toArray(CompletableFuture[]::new)).get();

    Map<Kind, Integer> seen = new HashMap<>();
    for (var entry : finals.entrySet()) {
      int i = entry.getKey();
      JobView job = entry.getValue().get();
      Kind kind = kindOf(i);
      seen.merge(kind, 1, Integer::sum);
      switch (kind) {
        case NOOP -> assertThat(job.state()).as(job.id()).isEqualTo(JobState.SUCCEEDED);
        case SITE -> {
          assertThat(job.state()).as(job.id()).isEqualTo(JobState.SUCCEEDED);
          assertPhasesInOrder(job, List.of("bug_list_download", "dashboard_render", "publish"));
        }
        case FLAKY -> {
          assertThat(job.state()).as(job.id()).isEqualTo(JobState.SUCCEEDED);
          assertThat(job.attempt()).as(job.id()).isGreaterThan(1);
        }
        case POISON -> {
          assertThat(job.state()).as(job.id()).isEqualTo(JobState.DEAD);
          assertThat(job.lastError()).as(job.id()).contains("poison");
        }
      }
    }
    assertThat(seen)
        .containsEntry(Kind.NOOP, 600)
        .containsEntry(Kind.SITE, 200)
        .containsEntry(Kind.FLAKY, 100)
        .containsEntry(Kind.POISON, 100);

    List<String> poisonIds =
        ids.entrySet().stream()
            .filter(e -> kindOf(e.getKey()) == Kind.POISON)
            .map(Map.Entry::getValue)
            .toList();
    List<DeadJob> dead = client.deadJobs(1000);
    assertThat(dead.stream().map(DeadJob::jobId).toList()).containsAll(poisonIds);
    assertThat(dead)
        .filteredOn(d -> poisonIds.contains(d.jobId()))
        .allSatisfy(d -> assertThat(d.reason()).contains("poison"));

    e2e.assertNothingLeftOver();
  }

  @Test
  void everyMetricTheDashboardAndTheAlertsQueryIsExposedByARunningService() throws Exception {
    ObjectNode site =
        Json.mapper().createObjectNode().put("site", "m.example").put("phaseMillis", 1);
    ObjectNode flaky =
        Json.mapper().createObjectNode().put("failFirstAttempts", 1).put("failureProbability", 0.0);
    List<CompletableFuture<JobView>> runs = new ArrayList<>();
    for (JobSubmission s :
        List.of(
            JobSubmission.of("site.generate", site),
            JobSubmission.of("demo.flaky", flaky),
            JobSubmission.of("demo.poison", Json.mapper().createObjectNode()))) {
      runs.add(client.await(client.submit(s).jobId(), AWAIT));
    }
    // A job that stalls and times out, and one cancelled while it runs. The stalled handler
    // ignores interrupts, so the worker's own timeout cannot end it and recovery's pass must
    // (each counts in its own service's metric).
    runs.add(
        client.await(
            client
                .submit(
                    JobSubmission.of(
                            "site.generate",
                            Json.mapper()
                                .createObjectNode()
                                .put("site", "stalled.example")
                                .put("phaseMillis", 8_000)
                                .put("ignoreCancel", true))
                        .withMaxAttempts(1)
                        .withTimeouts(new JobTimeouts(null, Duration.ofSeconds(1))))
                .jobId(),
            AWAIT));
    String cancelled =
        client
            .submit(
                JobSubmission.of(
                    "site.generate",
                    Json.mapper()
                        .createObjectNode()
                        .put("site", "cancelled.example")
                        .put("phaseMillis", 600_000)))
            .jobId();
    await()
        .atMost(AWAIT)
        .until(() -> client.get(cancelled).orElseThrow().state() == JobState.RUNNING);
    client.cancel(cancelled, "metrics", null);
    CompletableFuture.allOf(runs.toArray(CompletableFuture[]::new)).get();

    java.util.Set<String> exposed = new java.util.TreeSet<>();
    StringBuilder scrapes = new StringBuilder();
    for (var service : e2e.cluster.httpUris().entrySet()) {
      var response =
          http.send(
              HttpRequest.newBuilder(service.getValue().resolve("/actuator/prometheus"))
                  .GET()
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      assertThat(response.statusCode()).as(service.getKey()).isEqualTo(200);
      exposed.addAll(Observability.exposed(response.body()));
      scrapes.append(response.body());
    }
    // the series ShepherdServiceAbsent looks for exist while the services run
    var absentSelector =
        java.util.regex.Pattern.compile("absent\\((\\w+)\\{shepherd_service=\"([a-z-]+)\"\\}\\)");
    int selectors = 0;
    for (String rule : Observability.ruleQueries()) {
      var selector = absentSelector.matcher(rule);
      while (selector.find()) {
        selectors++;
        assertThat(scrapes)
            .as("a series %s of %s", selector.group(1), selector.group(2))
            .containsPattern(
                "(?m)^"
                    + selector.group(1)
                    + "\\{[^}]*shepherd_service=\""
                    + selector.group(2)
                    + "\"");
      }
    }
    assertThat(selectors).as("services the absence alert watches").isEqualTo(3);
    assertThat(exposed)
        .containsAll(Observability.metricsIn(Observability.dashboardQueries()))
        .containsAll(Observability.metricsIn(Observability.ruleQueries()));
  }

  private static void assertPhasesInOrder(JobView job, List<String> expected) {
    List<PhaseView> phases =
        job.phases().stream().filter(p -> p.attempt() == job.attempt()).toList();
    assertThat(phases).extracting(PhaseView::name).containsExactlyElementsOf(expected);
    PhaseView previous = null;
    for (PhaseView phase : phases) {
      assertThat(phase.startedAt()).isNotNull();
      assertThat(phase.endedAt()).isNotNull();
      assertThat(phase.endedAt()).isAfterOrEqualTo(phase.startedAt());
      if (previous != null) {
        assertThat(phase.startedAt()).isAfterOrEqualTo(previous.endedAt());
      }
      previous = phase;
    }
    assertThat(job.finishedAt()).isAfterOrEqualTo(previous.endedAt());
  }

  @Test
  void aHundredBadAmqpMessagesAmongAHundredGoodOnesEndAsDeadRecordsAndTheGoodOnesSucceed()
      throws Exception {
    String marker = e2e.prefix + "-bad-";
    var template = new RabbitTemplate(e2e.rabbit);
    List<String> goodKeys = new ArrayList<>();
    for (int i = 0; i < 100; i++) {
      String bad =
          switch (i % 5) {
            case 0 ->
                "{\"type\":\"demo.noop\",\"payload\":{\"m\":\"" + marker + i + "\""; // truncated
            case 1 -> "{\"type\":\"no.such.type\",\"payload\":{\"m\":\"" + marker + i + "\"}}";
            case 2 -> "{\"payload\":{\"m\":\"" + marker + i + "\"}}"; // no type
            case 3 ->
                "{\"type\":\"demo.noop\",\"payload\":\"" + marker + i + "\"}"; // not an object
            default ->
                "{\"type\":\"site.generate\",\"payload\":{\"m\":\""
                    + marker
                    + i
                    + "\"}}"; // no site
          };
      template.send(
          e2e.topology.submitExchange(),
          e2e.topology.submitRoutingKey(),
          MessageBuilder.withBody(bad.getBytes(StandardCharsets.UTF_8))
              .setUserId(dev.shepherd.testsupport.TestApiKeys.BROKER_USER)
              .build());
      String key = marker + "good-" + i;
      goodKeys.add(key);
      template.send(
          e2e.topology.submitExchange(),
          e2e.topology.submitRoutingKey(),
          MessageBuilder.withBody(
                  Json.mapper()
                      .writeValueAsBytes(
                          JobSubmission.of("demo.noop", Json.mapper().createObjectNode())
                              .withIdempotencyKey(key)))
              .setUserId(dev.shepherd.testsupport.TestApiKeys.BROKER_USER)
              .build());
    }
    List<CompletableFuture<JobView>> finals = new ArrayList<>();
    for (String key : goodKeys) {
      finals.add(client.jobIdForKey(key, AWAIT).thenCompose(id -> client.await(id, AWAIT)));
    }
    CompletableFuture.allOf(finals.toArray(CompletableFuture[]::new)).get();
    assertThat(finals).allSatisfy(f -> assertThat(f.get().state()).isEqualTo(JobState.SUCCEEDED));
    await()
        .atMost(Duration.ofSeconds(30))
        .untilAsserted(
            () -> {
              List<DeadJob> ours =
                  client.deadJobs(1000).stream()
                      .filter(d -> d.rawMessage() != null && d.rawMessage().contains(marker))
                      .toList();
              assertThat(ours).hasSize(100);
              assertThat(ours).allSatisfy(d -> assertThat(d.reason()).isNotBlank());
            });
    assertThat(e2e.cluster.processes()).allSatisfy(p -> assertThat(p.isAlive()).isTrue());
  }
}
