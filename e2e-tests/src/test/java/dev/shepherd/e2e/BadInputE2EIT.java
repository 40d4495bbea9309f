package dev.shepherd.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.shepherd.e2e.metrics.Scrape;
import dev.shepherd.model.DeadJob;
import dev.shepherd.model.JobState;
import dev.shepherd.model.JobSubmission;
import dev.shepherd.model.JobView;
import dev.shepherd.model.Json;
import dev.shepherd.testsupport.ServiceEndpoints;
import dev.shepherd.testsupport.TestNames;
import dev.shepherd.testsupport.WithRealServices;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.springframework.amqp.core.MessageBuilder;
import org.springframework.amqp.rabbit.core.RabbitTemplate;

/**
 * A corpus of bad inputs over REST and AMQP while good jobs flow: every bad one gets a clear error
 * (problem+json with a 4xx status) or a dead-job record with the reason, no service crashes, and
 * every good job succeeds. Forged outcomes are sent against finished jobs, unknown jobs and jobs
 * still RUNNING ({@link ForgedReports}); every one is refused.
 */
@WithRealServices
class BadInputE2EIT {

  private final HttpClient http = HttpClient.newHttpClient();

  @Test
  void everyBadInputGetsAClearErrorOrADeadRecordAndEveryGoodJobSucceeds(
      ServiceEndpoints endpoints, TestNames names) throws Exception {
    try (var e2e = new E2eSupport(endpoints, names.prefix(), 2, Map.of());
        var client = e2e.cluster.client().build()) {
      String m = names.prefix() + "-bad";
      List<CompletableFuture<JobView>> good = new ArrayList<>();
      Runnable goodJob =
          () ->
              good.add(
                  client.await(
                      client
                          .submit(JobSubmission.of("demo.noop", Json.mapper().createObjectNode()))
                          .jobId(),
                      Duration.ofMinutes(2)));

      // REST: 33 inputs, each a 4xx problem+json
      Map<String, byte[]> rest = new LinkedHashMap<>();
      String huge = "x".repeat(300 * 1024);
      String[] bodies = {
        "{\"type\":\"demo.noop\",\"payload\":{",
        "[]",
        "\"a string\"",
        "null",
        "{}",
        "42",
        "{\"type\":5,\"payload\":{}}",
        "{\"type\":\"demo.noop\",\"payload\":[]}",
        "{\"type\":\"demo.noop\",\"payload\":\"text\"}",
        "{\"type\":\"demo.noop\",\"payload\":{},\"colour\":1}",
        "{\"type\":\"demo.noop\",\"payload\":{},\"maxAttempts\":0}",
        "{\"type\":\"demo.noop\",\"payload\":{},\"maxAttempts\":1000}",
        "{\"type\":\"demo.noop\",\"payload\":{},\"maxAttempts\":\"3\"}",
        "{\"type\":\"demo.noop\",\"payload\":{},\"notBefore\":\"yesterday\"}",
        "{\"type\":\"demo.noop\",\"payload\":{},\"idempotencyKey\":\"\"}",
        "{\"type\":\"demo.noop\",\"payload\":{},\"idempotencyKey\":\"" + "k".repeat(201) + "\"}",
        "{\"type\":\"Demo.Noop\",\"payload\":{}}",
        "{\"type\":\"" + "a".repeat(200) + "\",\"payload\":{}}",
        "{\"type\":\"demo.noop\",\"payload\":{\"blob\":\"" + huge + "\"}}",
        "{\"type\":\"no.such.type\",\"payload\":{}}",
        "{\"type\":\"site.generate\",\"payload\":{}}",
        "{\"type\":\"site.generate\",\"payload\":{\"site\":\"s\",\"phaseMillis\":-1}}",
        "{\"type\":\"demo.flaky\",\"payload\":{\"failureProbability\":2}}",
        "{\"type\":\"demo.noop\"}",
        "{\"payload\":{}}",
        "",
        "{\"type\":null,\"payload\":{}}",
        "{\"type\":\"demo.noop\",\"payload\":{}}}}",
      };
      for (int i = 0; i < bodies.length; i++) {
        rest.put("json-" + i, bodies[i].getBytes(StandardCharsets.UTF_8));
      }
      rest.put("non-utf8", new byte[] {'{', '"', 't', (byte) 0xC3, (byte) 0x28, '"', '}'});
      int restBad = 0;
      for (var c : rest.entrySet()) {
        var response =
            http.send(
                HttpRequest.newBuilder(e2e.cluster.schedulerUri().resolve("/api/v1/jobs"))
                    .header("X-Api-Key", dev.shepherd.testsupport.TestApiKeys.ADMIN_KEY)
                    .header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofByteArray(c.getValue()))
                    .build(),
                HttpResponse.BodyHandlers.ofString());
        assertProblem(c.getKey(), response);
        restBad++;
        goodJob.run();
      }
      for (String type : new String[] {"text/plain", "application/xml"}) {
        var response =
            http.send(
                HttpRequest.newBuilder(e2e.cluster.schedulerUri().resolve("/api/v1/jobs"))
                    .header("X-Api-Key", dev.shepherd.testsupport.TestApiKeys.ADMIN_KEY)
                    .header("Content-Type", type)
                    .POST(
                        HttpRequest.BodyPublishers.ofString(
                            "{\"type\":\"demo.noop\",\"payload\":{}}"))
                    .build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).as(type).isEqualTo(415);
        restBad++;
      }
      for (String path :
          new String[] {
            "/api/v1/jobs/00-00000000000000000000000000000000",
            "/api/v1/jobs/zz-%3Cscript%3E",
            "/api/v1/jobs?state=NOPE",
            "/api/v1/jobs?limit=-1",
            "/api/v1/dead-jobs?limit=0"
          }) {
        assertProblem(
            path,
            http.send(
                HttpRequest.newBuilder(e2e.cluster.schedulerUri().resolve(path))
                    .header("X-Api-Key", dev.shepherd.testsupport.TestApiKeys.ADMIN_KEY)
                    .GET()
                    .build(),
                HttpResponse.BodyHandlers.ofString()));
        restBad++;
      }

      // AMQP: bad submissions, status events and work messages; each ends as a dead record,
      // or (a report on a finished or unknown job) is refused and counted
      var template = new RabbitTemplate(e2e.rabbit);
      List<byte[]> submissions = new ArrayList<>();
      for (String body :
          new String[] {
            "{\"type\":\"demo.noop\",\"payload\":{\"m\":\"" + m + "\"",
            "[\"" + m + "\"]",
            "\"" + m + "\"",
            "{\"type\":5,\"payload\":{\"m\":\"" + m + "\"}}",
            "{\"type\":\"demo.noop\",\"payload\":{\"m\":\"" + m + "\"},\"x\":1}",
            "{\"type\":\"no.such\",\"payload\":{\"m\":\"" + m + "\"}}",
            "{\"payload\":{\"m\":\"" + m + "\"}}",
            "{\"type\":\"demo.noop\",\"payload\":{\"m\":\"" + m + "\",\"b\":\"" + huge + "\"}}",
            "{\"type\":\"demo.noop\",\"payload\":{\"m\":\"" + m + "\"},\"maxAttempts\":-4}",
          }) {
        submissions.add(body.getBytes(StandardCharsets.UTF_8));
      }
      byte[] nonUtf8 = (m + "\u0000").getBytes(StandardCharsets.UTF_8);
      nonUtf8[nonUtf8.length - 1] = (byte) 0xFF;
      submissions.add(nonUtf8);
      for (byte[] body : submissions) {
        template.send(
            e2e.topology.submitExchange(),
            e2e.topology.submitRoutingKey(),
            MessageBuilder.withBody(body)
                .setUserId(dev.shepherd.testsupport.TestApiKeys.BROKER_USER)
                .build());
        goodJob.run();
      }
      JobView finished = good.get(0).get();
      String[] statusEvents = {
        "{not json " + m,
        "{\"event\":\"EXPLODED\",\"jobId\":\"" + finished.id() + "\",\"m\":\"" + m + "\"}",
        "{\"event\":\"SUCCEEDED\",\"jobId\":\"" + finished.id() + "\",\"m\":\"" + m + "\"}",
      };
      for (String body : statusEvents) {
        template.send(
            e2e.topology.statusExchange(),
            "demo.noop.SUCCEEDED",
            MessageBuilder.withBody(body.getBytes(StandardCharsets.UTF_8))
                .setUserId(dev.shepherd.testsupport.TestApiKeys.BROKER_USER)
                .build());
      }
      // a status event that names no broker user is not a worker's: a dead record, not applied
      String unsigned =
          "{\"event\":\"SUCCEEDED\",\"jobId\":\"" + finished.id() + "\",\"u\":\"" + m + "\"}";
      template.send(
          e2e.topology.statusExchange(),
          "demo.noop.SUCCEEDED",
          MessageBuilder.withBody(unsigned.getBytes(StandardCharsets.UTF_8)).build());
      String[] refusedReports = {
        forged(finished.id(), 7L),
        forged(finished.id(), 1L),
        forged("03-0123456789abcdef0123456789abcdef", 5L),
      };
      for (String body : refusedReports) {
        template.send(
            e2e.topology.statusExchange(),
            "demo.noop.SUCCEEDED",
            MessageBuilder.withBody(body.getBytes(StandardCharsets.UTF_8))
                .setUserId(dev.shepherd.testsupport.TestApiKeys.BROKER_USER)
                .build());
      }
      String[] workMessages = {
        "{broken work " + m,
        "{\"jobId\":\"not-a-shepherd-id-"
            + m
            + "\",\"type\":\"demo.noop\",\"attempt\":1,\"payload\":{},\"submittedAt\":\"2026-01-01T00:00:00Z\"}",
      };
      for (String body : workMessages) {
        template.send(
            e2e.topology.workExchange(),
            "demo.noop",
            MessageBuilder.withBody(body.getBytes(StandardCharsets.UTF_8)).build());
      }
      // forged outcomes with a wrong fencing token against jobs still RUNNING: refused, and each
      // job ends from its real attempt
      assertThat(ForgedReports.againstRunningJobs(e2e, client)).isEmpty();

      // a duplicate submission over REST and over AMQP makes one job each
      var dup =
          JobSubmission.of("demo.noop", Json.mapper().createObjectNode())
              .withIdempotencyKey(m + "-dup");
      String first = client.submit(dup).jobId();
      assertThat(client.submit(dup).duplicate()).isTrue();
      assertThat(client.submit(dup).jobId()).isEqualTo(first);

      int deadExpected = submissions.size() + statusEvents.length + 1 + workMessages.length;
      int total = restBad + deadExpected + refusedReports.length + 2;
      assertThat(total).isGreaterThanOrEqualTo(50);

      CompletableFuture.allOf(good.toArray(CompletableFuture[]::new)).get();
      assertThat(good).allSatisfy(f -> assertThat(f.get().state()).isEqualTo(JobState.SUCCEEDED));
      await()
          .atMost(Duration.ofSeconds(30))
          .untilAsserted(
              () -> {
                List<DeadJob> ours =
                    client.deadJobs(1000).stream()
                        .filter(d -> d.rawMessage() != null && d.rawMessage().contains(m))
                        .toList();
                assertThat(ours).hasSize(deadExpected);
                assertThat(ours).allSatisfy(d -> assertThat(d.reason()).isNotBlank());
                assertThat(ours)
                    .filteredOn(d -> d.rawMessage().contains("\"u\":\"" + m))
                    .singleElement()
                    .satisfies(d -> assertThat(d.reason()).startsWith("unauthenticated:"));
              });
      var tracker = e2e.cluster.httpUris().get("status-tracker");
      await()
          .atMost(Duration.ofSeconds(10))
          .until(
              () -> {
                Scrape s = Scrape.of(List.of(tracker));
                return s.sum("shepherd_status_stale_reports_total")
                        + s.sum("shepherd_status_duplicate_reports_total")
                    >= 2;
              });
      assertThat(e2e.cluster.processes())
          .allSatisfy(p -> assertThat(p.isAlive()).as(p.name()).isTrue());
      assertThat(client.get(finished.id()).orElseThrow().state()).isEqualTo(JobState.SUCCEEDED);
    }
  }

  private static String forged(String jobId, long token) {
    return "{\"event\":\"FAILED\",\"jobId\":\""
        + jobId
        + "\",\"type\":\"demo.noop\",\"attempt\":1,"
        + "\"fencingToken\":"
        + token
        + ",\"sequence\":99,\"workerId\":\"forger\","
        + "\"at\":\"2026-01-01T00:00:00Z\",\"error\":\"forged\",\"retryable\":false}";
  }

  private static void assertProblem(String what, HttpResponse<String> response) {
    assertThat(response.statusCode()).as(what + ": " + response.body()).isBetween(400, 499);
    assertThat(response.headers().firstValue("Content-Type"))
        .as(what)
        .hasValueSatisfying(v -> assertThat(v).startsWith("application/problem+json"));
    assertThat(Json.mapper().readTree(response.body()).path("detail").asString())
        .as(what)
        .isNotBlank();
  }
}
