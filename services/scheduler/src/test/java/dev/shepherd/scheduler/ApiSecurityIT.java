package dev.shepherd.scheduler;

import static dev.shepherd.scheduler.InProcessScheduler.assertProblem;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import com.sun.net.httpserver.HttpServer;
import dev.shepherd.messaging.Topology;
import dev.shepherd.model.DeadJob;
import dev.shepherd.model.JobState;
import dev.shepherd.model.JobView;
import dev.shepherd.model.Json;
import dev.shepherd.store.ClaimResult;
import dev.shepherd.store.Store;
import dev.shepherd.testsupport.ServiceEndpoints;
import dev.shepherd.testsupport.TestApiKeys;
import dev.shepherd.testsupport.TestNames;
import dev.shepherd.testsupport.WithRealServices;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import tools.jackson.databind.JsonNode;

/**
 * The API against the OWASP API Security Top 10 (2023), issue 17 and ADR 40: one scheduler with API
 * keys of two tenants, a reader, an administrator, a policy file and a token issuer (a JWK set
 * served by the test), on the real broker and Redis. Each test names the item it covers.
 */
@WithRealServices
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ApiSecurityIT {

  private static final String ACME_KEY = "acme-producer-key-0b8e51";
  private static final String ACME_READER_KEY = "acme-reader-key-7d2c90";
  private static final String GLOBEX_KEY = "globex-producer-key-3f6a18";
  private static final String FLOOD_KEY = "flood-key-91ce04";
  private static final String LATE_KEY = "late-key-5a7b3e";
  private static final String REVOCABLE_KEY = "revocable-key-c4e2d9";

  private InProcessScheduler scheduler;
  private ConfigurableApplicationContext app;
  private final HttpClient http = HttpClient.newHttpClient();
  private URI base;
  private String prefix;
  private Path policyFile;
  private HttpServer issuer;
  private RSAKey signingKey;
  private Map<String, Object> props;

  @BeforeAll
  void start(ServiceEndpoints endpoints, TestNames names) throws Exception {
    prefix = names.prefix();
    signingKey = new RSAKeyGenerator(2048).keyID("test-key").generate();
    String jwks = new JWKSet(signingKey.toPublicJWK()).toString();
    issuer = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    issuer.createContext(
        "/jwks",
        exchange -> {
          byte[] body = jwks.getBytes(StandardCharsets.UTF_8);
          exchange.getResponseHeaders().add("Content-Type", "application/json");
          exchange.sendResponseHeaders(200, body.length);
          try (OutputStream out = exchange.getResponseBody()) {
            out.write(body);
          }
        });
    issuer.start();
    policyFile = Files.createTempFile("shepherd-policy", ".yml");
    writePolicy();

    props = new HashMap<>();
    key(1, "acme-producer", ACME_KEY, "acme", "producers");
    key(2, "acme-reader", ACME_READER_KEY, "acme", null);
    key(3, "globex-producer", GLOBEX_KEY, "globex", "producers");
    key(4, "flood", FLOOD_KEY, "flood", "producers");
    key(5, "revocable", REVOCABLE_KEY, "acme", null);
    props.put("shepherd.security.grants[1].groups[0]", "producers");
    props.put("shepherd.security.grants[1].types[0]", "demo.*");
    props.put("shepherd.security.grants[1].operations[0]", "submit");
    props.put("shepherd.security.grants[1].operations[1]", "read");
    props.put("shepherd.security.grants[1].operations[2]", "cancel");
    props.put("shepherd.security.grants[1].operations[3]", "redrive");
    props.put("shepherd.security.grants[2].principals[0]", "acme-reader");
    props.put("shepherd.security.grants[2].types[0]", "demo.noop");
    props.put("shepherd.security.grants[2].operations[0]", "read");
    // the broker's guest submits over AMQP as a producer of acme's, of demo.noop only
    props.put("shepherd.security.amqp-users[0].tenant", "acme");
    props.put("shepherd.security.grants[0].principals[1]", TestApiKeys.ADMIN);
    props.put("shepherd.security.grants[3].principals[0]", TestApiKeys.BROKER_USER);
    props.put("shepherd.security.grants[3].types[0]", "demo.noop");
    props.put("shepherd.security.grants[3].operations[0]", "submit");
    // the default pool runs these types only: demo.flaky is not handed out
    props.put("shepherd.security.pools[0].pool", "default");
    props.put("shepherd.security.pools[0].types[0]", "demo.noop");
    props.put("shepherd.security.pools[0].types[1]", "site.*");
    props.put("shepherd.security.policy-file", policyFile.toString());
    props.put("shepherd.security.policy-refresh", "200ms");
    props.put("shepherd.distribution.server-key", "api-security-it-callback-key-0123456789abcdef");
    props.put("shepherd.security.submit-rate.per-second", "1");
    props.put("shepherd.security.submit-rate.burst", "10");
    props.put(
        "spring.security.oauth2.resourceserver.jwt.jwk-set-uri",
        "http://127.0.0.1:" + issuer.getAddress().getPort() + "/jwks");
    scheduler = InProcessScheduler.start(endpoints.asSpringProperties(), names.prefix(), props);
    app = scheduler.app();
    base = scheduler.base();
  }

  private void key(int i, String name, String key, String tenant, String group) {
    props.put("shepherd.security.api-keys[" + i + "].name", name);
    props.put("shepherd.security.api-keys[" + i + "].sha256", TestApiKeys.sha256(key));
    props.put("shepherd.security.api-keys[" + i + "].tenant", tenant);
    if (group != null) {
      props.put("shepherd.security.api-keys[" + i + "].groups[0]", group);
    }
  }

  @AfterAll
  void stop() throws Exception {
    if (scheduler != null) {
      scheduler.close();
    }
    if (issuer != null) {
      issuer.stop(0);
    }
    Files.deleteIfExists(policyFile);
  }

  // ---- API2: broken authentication

  @Test
  void api2_aCallWithoutCredentialsIsRefusedWith401AndSaysWhatItNeeds() throws Exception {
    var response = send(request("/api/v1/jobs/00-x", null).GET());
    assertProblem(response, 401, "X-Api-Key header or a bearer token");
    assertThat(response.headers().firstValue("WWW-Authenticate"))
        .hasValueSatisfying(v -> assertThat(v).contains("X-Api-Key").contains("Bearer"));
    assertProblem(
        send(request("/api/v1/jobs", null).POST(body("{\"type\":\"demo.noop\",\"payload\":{}}"))),
        401,
        "X-Api-Key");
  }

  @Test
  void api2_anUnknownKeyIsRefusedEvenWhereNothingWouldBeShown() throws Exception {
    assertProblem(send(request("/api/v1/jobs", "not-a-key").GET()), 401, "unknown API key");
    assertProblem(
        send(request("/api/v1/jobs", ACME_KEY + "x").GET()), 401, "credentials were refused");
  }

  @Test
  void api2_aTokenOfTheIssuerAuthenticatesItsSubjectInItsTenant() throws Exception {
    String token = token("jwt-user", "acme", List.of("producers"), signingKey);
    var submitted = send(bearer("/api/v1/jobs", token).POST(body(noop())));
    assertThat(submitted.statusCode()).as(submitted.body()).isEqualTo(202);
    String id = json(submitted).get("jobId").asString();
    JobView job = view(id, ACME_KEY);
    assertThat(job.tenant()).as("the token's tenant claim").isEqualTo("acme");
    assertThat(send(request("/api/v1/jobs/" + id, GLOBEX_KEY).GET()).statusCode()).isEqualTo(404);
  }

  @Test
  void api2_aForgedExpiredOrTenantlessTokenIsRefused() throws Exception {
    RSAKey stranger = new RSAKeyGenerator(2048).keyID("test-key").generate();
    assertThat(
            send(bearer("/api/v1/jobs", token("jwt-user", "acme", List.of(), stranger)).GET())
                .statusCode())
        .as("signed by a key the issuer does not publish")
        .isEqualTo(401);
    var expired =
        new JWTClaimsSet.Builder()
            .subject("jwt-user")
            .claim("tenant", "acme")
            .expirationTime(Date.from(Instant.now().minusSeconds(3600)))
            .build();
    assertThat(send(bearer("/api/v1/jobs", sign(expired, signingKey)).GET()).statusCode())
        .isEqualTo(401);
    var tenantless =
        send(
            bearer("/api/v1/jobs", token("jwt-user", null, List.of("producers"), signingKey))
                .GET());
    assertProblem(tenantless, 401, "'tenant' claim");
  }

  @Test
  void api2_anAttemptCallbackTakesNoKeyButIsCheckedAndOnlyItsOwnPathIsOpen() throws Exception {
    String id = submit(ACME_KEY, noop()); // no worker runs its attempt: SUBMITTED, then QUEUED
    String callback = "{\"event\":\"PROGRESS\",\"jobId\":\"" + id + "\",\"attempt\":1}";
    // no key, no signature: the callback check answers, not the API-key filter
    var late = send(request("/api/v1/attempts/" + id + ".1/events", null).POST(body(callback)));
    assertProblem(late, 409, "is not running");
    assertThat(json(late).get("state").asString()).isIn("SUBMITTED", "QUEUED");
    assertProblem(
        send(request("/api/v1/attempts/" + id + "/events", null).POST(body(callback))),
        400,
        "<jobId>.<attempt number>");
    assertProblem(
        send(request("/api/v1/attempts/00-nosuchjob.1/events", null).POST(body(callback))),
        404,
        "no job");
    // every other method and path under /api still needs credentials
    assertThat(send(request("/api/v1/attempts/" + id + ".1/events", null).GET()).statusCode())
        .isEqualTo(401);
    assertThat(
            send(request("/api/v1/attempts/" + id + ".1/cancel", null).POST(body(callback)))
                .statusCode())
        .isEqualTo(401);
  }

  // ---- API5: broken function-level authorization

  @Test
  void api5_aCallerWithoutTheGrantIsRefusedWith403() throws Exception {
    assertProblem(
        send(request("/api/v1/jobs", ACME_READER_KEY).POST(body(noop()))), 403, "may not submit");
    assertProblem(
        send(
            request("/api/v1/jobs", ACME_KEY)
                .POST(body("{\"type\":\"site.generate\",\"payload\":{\"site\":\"a\"}}"))),
        403,
        "site.generate");
    assertProblem(
        send(
            request("/api/v1/jobs", ACME_KEY)
                .POST(body("{\"type\":\"secret.unknown\",\"payload\":{}}"))),
        403,
        "may not submit");
    String id = submit(ACME_KEY, noop());
    assertProblem(
        send(request("/api/v1/jobs/" + id + "/cancel", ACME_READER_KEY).POST(empty())),
        403,
        "may not cancel");
    assertProblem(
        send(request("/api/v1/jobs/" + id + "/retry-now", ACME_READER_KEY).POST(empty())),
        403,
        "may not redrive");
    for (String path : List.of("/api/v1/workers", "/api/v1/keys?state=DOWN", "/api/v1/keys/k")) {
      assertProblem(send(request(path, ACME_KEY).GET()), 403, "admin");
      assertThat(send(request(path, TestApiKeys.ADMIN_KEY).GET()).statusCode())
          .as(path)
          .isEqualTo(200);
    }
    assertProblem(
        send(request("/api/v1/jobs/cancel?type=demo.noop", ACME_KEY).POST(empty())),
        403,
        "every tenant");
  }

  // ---- API1: broken object-level authorization

  @Test
  void api1_anotherTenantsJobIsNotThereForAnyEndpoint() throws Exception {
    String id =
        submit(ACME_KEY, "{\"type\":\"demo.noop\",\"payload\":{},\"idempotencyKey\":\"k-1\"}");
    assertThat(view(id, ACME_KEY).state()).isNotNull();
    assertProblem(send(request("/api/v1/jobs/" + id, GLOBEX_KEY).GET()), 404, id);
    assertProblem(
        send(request("/api/v1/jobs/" + id + "/cancel", GLOBEX_KEY).POST(empty())), 404, id);
    assertProblem(
        send(request("/api/v1/jobs/" + id + "/retry-now", GLOBEX_KEY).POST(empty())), 404, id);
    assertThat(view(id, ACME_KEY).state()).isNotEqualTo(JobState.CANCELLED);
    assertProblem(send(request("/api/v1/jobs/by-key/k-1", GLOBEX_KEY).GET()), 404, "k-1");
    var events = send(request("/api/v1/jobs/" + id + "/events", GLOBEX_KEY).GET());
    assertThat(events.body()).contains("event:missing");
    var listed = json(send(request("/api/v1/jobs?type=demo.noop&limit=1000", GLOBEX_KEY).GET()));
    assertThat(listed.findValuesAsString("id")).doesNotContain(id);
    var own = json(send(request("/api/v1/jobs?type=demo.noop&limit=1000", ACME_KEY).GET()));
    assertThat(own.findValuesAsString("id")).contains(id);
  }

  @Test
  void api1_eachTenantHasItsOwnIdempotencyKeys() throws Exception {
    String body = "{\"type\":\"demo.noop\",\"payload\":{},\"idempotencyKey\":\"same-key\"}";
    String acme = submit(ACME_KEY, body);
    String globex = submit(GLOBEX_KEY, body);
    assertThat(globex).as("not acme's job returned as a duplicate").isNotEqualTo(acme);
    assertThat(view(globex, GLOBEX_KEY).idempotencyKey()).isEqualTo("same-key");
    var again = send(request("/api/v1/jobs", ACME_KEY).POST(body(body)));
    assertThat(again.statusCode()).isEqualTo(200);
    assertThat(json(again).get("jobId").asString()).isEqualTo(acme);
    assertThat(
            json(send(request("/api/v1/jobs/by-key/same-key", GLOBEX_KEY).GET()))
                .get("id")
                .asString())
        .isEqualTo(globex);
  }

  @Test
  void api1_anotherTenantsDeadJobCannotBeSeenRedrivenOrDiscarded() throws Exception {
    String id = submit(ACME_KEY, noop());
    Store store = app.getBean("shepherdStore", Store.class);
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> view(id, ACME_KEY).state() == JobState.QUEUED);
    DeadJob record = store.deadJobs().recordDead(id, "demo.noop", "poison", "q", "{}");
    List<String> seen =
        json(send(request("/api/v1/dead-jobs?limit=1000", GLOBEX_KEY).GET()))
            .findValuesAsString("id");
    assertThat(seen).doesNotContain(record.id());
    assertProblem(
        send(request("/api/v1/dead-jobs/" + record.id() + "/redrive", GLOBEX_KEY).POST(empty())),
        404,
        record.id());
    assertProblem(
        send(request("/api/v1/dead-jobs/" + record.id(), GLOBEX_KEY).DELETE()), 404, record.id());
    assertProblem(
        send(request("/api/v1/dead-jobs/" + record.id(), ACME_KEY).DELETE()),
        403,
        "may not discard");
    assertThat(
            json(send(request("/api/v1/dead-jobs?limit=1000", ACME_KEY).GET()))
                .findValuesAsString("id"))
        .contains(record.id());
  }

  // ---- API3: broken object property level authorization; and who acts

  @Test
  void api3_fencingTokensAreShownToAdministratorsOnly() throws Exception {
    String id = submit(ACME_KEY, noop());
    Store store = app.getBean("shepherdStore", Store.class);
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> view(id, ACME_KEY).state() == JobState.QUEUED);
    var claimed = (ClaimResult.Claimed) store.leases().claim(id, 1, "w-1", Duration.ofSeconds(30));
    assertThat(view(id, ACME_KEY).history())
        .as("a producer's view")
        .allSatisfy(h -> assertThat(h.fencingToken()).isNull());
    assertThat(view(id, TestApiKeys.ADMIN_KEY).history())
        .anySatisfy(h -> assertThat(h.fencingToken()).isEqualTo(claimed.fencingToken()));

    // where the attempt ran: its task token (an http one holds the fencing token) and the
    // distributor settings it started with (internal endpoints) are an administrator's too
    var settings = java.util.Map.of("endpoint", "https://render.internal/tasks");
    assertThat(
            store
                .leases()
                .recordTask(
                    id, claimed.fencingToken(), "http", "task-1", "https://svc/t/1", settings))
        .isTrue();
    assertThat(view(id, ACME_KEY).tasks())
        .as("a producer's view")
        .singleElement()
        .satisfies(
            t -> {
              assertThat(t.infoUrl()).isEqualTo("https://svc/t/1");
              assertThat(t.task()).isNull();
              assertThat(t.settings()).isNull();
            });
    assertThat(view(id, TestApiKeys.ADMIN_KEY).tasks())
        .singleElement()
        .satisfies(
            t -> {
              assertThat(t.task()).isEqualTo("task-1");
              assertThat(t.settings()).isEqualTo(settings);
            });
  }

  @Test
  void theActorOfACancelIsThePrincipalNeverAHeader() throws Exception {
    String id = submit(ACME_KEY, noop());
    var cancelled =
        send(
            request("/api/v1/jobs/" + id + "/cancel?by=mallory", ACME_KEY)
                .header("X-Shepherd-Actor", "mallory")
                .POST(empty()));
    assertThat(cancelled.statusCode()).as(cancelled.body()).isEqualTo(202);
    assertThat(view(id, ACME_KEY).cancelledBy()).isEqualTo("acme-producer");
  }

  // ---- API4: unrestricted resource consumption

  @Test
  void api4_aFiftyMebibyteBodyIsRefusedBeforeItIsRead() throws Exception {
    int port = base.getPort();
    for (boolean chunked : List.of(false, true)) {
      try (Socket socket = new Socket("127.0.0.1", port)) {
        socket.setSoTimeout(10_000);
        OutputStream out = socket.getOutputStream();
        String head =
            "POST /api/v1/jobs HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                + "X-Api-Key: "
                + ACME_KEY
                + "\r\n"
                + (chunked ? "Transfer-Encoding: chunked\r\n" : "Content-Length: 52428800\r\n")
                + "\r\n";
        out.write(head.getBytes(StandardCharsets.US_ASCII));
        byte[] block = new byte[64 * 1024];
        java.util.Arrays.fill(block, (byte) ' ');
        // a chunked body past the limit, then the response: the server stops reading there
        for (int i = 0; i < (chunked ? 6 : 1); i++) {
          if (chunked) {
            out.write(
                (Integer.toHexString(block.length) + "\r\n").getBytes(StandardCharsets.US_ASCII));
          }
          out.write(block);
          if (chunked) {
            out.write("\r\n".getBytes(StandardCharsets.US_ASCII));
          }
        }
        out.flush();
        InputStream in = socket.getInputStream();
        String status = new String(in.readNBytes(12), StandardCharsets.US_ASCII);
        assertThat(status).as(chunked ? "chunked" : "declared length").isEqualTo("HTTP/1.1 413");
      }
    }
  }

  @Test
  void api4_aDeeplyNestedPayloadIsRefusedAsMalformed() throws Exception {
    String nested = "[".repeat(5_000) + "]".repeat(5_000);
    var response =
        send(
            request("/api/v1/jobs", ACME_KEY)
                .POST(body("{\"type\":\"demo.noop\",\"payload\":{\"a\":" + nested + "}}")));
    assertProblem(response, 400, "nesting depth");
  }

  @Test
  void api4_listsAreCappedAndSubmissionsAreRateLimitedPerPrincipal() throws Exception {
    assertProblem(send(request("/api/v1/jobs?limit=100000", ACME_KEY).GET()), 400, "limit");
    List<Integer> statuses = new ArrayList<>();
    HttpResponse<String> throttled = null;
    for (int i = 0; i < 25 && throttled == null; i++) {
      var response = send(request("/api/v1/jobs", FLOOD_KEY).POST(body(noop())));
      statuses.add(response.statusCode());
      if (response.statusCode() == 429) {
        throttled = response;
      }
    }
    assertThat(throttled).as("statuses %s", statuses).isNotNull();
    assertProblem(throttled, 429, "too many submissions");
    assertThat(throttled.headers().firstValue("Retry-After"))
        .hasValueSatisfying(v -> assertThat(Integer.parseInt(v)).isPositive());
    assertThat(statuses.subList(0, 10)).as("the burst").containsOnly(202);
    assertThat(send(request("/api/v1/jobs", ACME_KEY).POST(body(noop()))).statusCode())
        .as("another principal's rate is its own")
        .isEqualTo(202);
  }

  // ---- AMQP: the broker-validated user_id is the submitter

  @Test
  void api2_anAmqpSubmissionIsItsBrokerUsersAndOneWithoutAUserIsADeadRecord() throws Exception {
    Topology topology = app.getBean(Topology.class);
    var template =
        new org.springframework.amqp.rabbit.core.RabbitTemplate(
            app.getBean(org.springframework.amqp.rabbit.connection.ConnectionFactory.class));
    String marker = "amqp-" + System.nanoTime();
    String good = "{\"type\":\"demo.noop\",\"payload\":{},\"idempotencyKey\":\"" + marker + "\"}";
    String forbidden = "{\"type\":\"site.generate\",\"payload\":{\"site\":\"" + marker + "\"}}";
    String anonymous = "{\"type\":\"demo.noop\",\"payload\":{\"m\":\"" + marker + "\"}}";
    send(template, topology, good, TestApiKeys.BROKER_USER);
    send(template, topology, forbidden, TestApiKeys.BROKER_USER);
    send(template, topology, anonymous, null);

    await()
        .atMost(Duration.ofSeconds(10))
        .until(
            () ->
                send(request("/api/v1/jobs/by-key/" + marker, ACME_KEY).GET()).statusCode() == 200);
    JobView job =
        Json.mapper()
            .readValue(
                send(request("/api/v1/jobs/by-key/" + marker, ACME_KEY).GET()).body(),
                JobView.class);
    assertThat(job.tenant()).as("guest's tenant").isEqualTo("acme");
    assertThat(send(request("/api/v1/jobs/by-key/" + marker, GLOBEX_KEY).GET()).statusCode())
        .isEqualTo(404);
    await()
        .atMost(Duration.ofSeconds(10))
        .untilAsserted(
            () -> {
              List<DeadJob> dead =
                  List.of(
                      Json.mapper()
                          .readValue(
                              send(request("/api/v1/dead-jobs?limit=1000", TestApiKeys.ADMIN_KEY)
                                      .GET())
                                  .body(),
                              DeadJob[].class));
              assertThat(dead)
                  .filteredOn(d -> d.rawMessage() != null && d.rawMessage().contains(marker))
                  .extracting(d -> d.reason().substring(0, d.reason().indexOf(':')))
                  .containsExactlyInAnyOrder("forbidden", "unauthenticated");
            });
  }

  @Test
  void api1_anAmqpCancelIsItsBrokerUsersAndNeedsItsGrant() throws Exception {
    Topology topology = app.getBean(Topology.class);
    var template =
        new org.springframework.amqp.rabbit.core.RabbitTemplate(
            app.getBean(org.springframework.amqp.rabbit.connection.ConnectionFactory.class));
    String acme = submit(ACME_KEY, noop());
    String globex = submit(GLOBEX_KEY, noop());
    String marker = "cancel-" + System.nanoTime();
    // guest is acme's, granted submit only: no cancel; globex's job is not there for it
    for (String body :
        List.of(
            "{\"jobId\":\"" + acme + "\",\"reason\":\"" + marker + "-a\"}",
            "{\"jobId\":\"" + globex + "\",\"reason\":\"" + marker + "-g\"}")) {
      template.send(
          topology.controlExchange(),
          topology.cancelRoutingKey(),
          org.springframework.amqp.core.MessageBuilder.withBody(
                  body.getBytes(StandardCharsets.UTF_8))
              .setUserId(TestApiKeys.BROKER_USER)
              .build());
    }
    template.send(
        topology.controlExchange(),
        topology.cancelRoutingKey(),
        org.springframework.amqp.core.MessageBuilder.withBody(
                ("{\"jobId\":\"" + acme + "\",\"reason\":\"" + marker + "-u\"}")
                    .getBytes(StandardCharsets.UTF_8))
            .build());
    await()
        .atMost(Duration.ofSeconds(10))
        .untilAsserted(
            () -> {
              List<DeadJob> dead =
                  List.of(
                      Json.mapper()
                          .readValue(
                              send(request("/api/v1/dead-jobs?limit=1000", TestApiKeys.ADMIN_KEY)
                                      .GET())
                                  .body(),
                              DeadJob[].class));
              assertThat(dead)
                  .filteredOn(d -> d.rawMessage() != null && d.rawMessage().contains(marker))
                  .extracting(DeadJob::reason)
                  .satisfiesExactlyInAnyOrder(
                      r -> assertThat(r).startsWith("forbidden: guest may not cancel"),
                      r -> assertThat(r).contains("names no job '" + globex + "'"),
                      r -> assertThat(r).startsWith("unauthenticated:"));
            });
    assertThat(view(acme, ACME_KEY).state()).isNotEqualTo(JobState.CANCELLED);
    assertThat(view(globex, GLOBEX_KEY).state()).isNotEqualTo(JobState.CANCELLED);
  }

  @Test
  void theBrokerRefusesAUserIdThatIsNotTheConnectionsUser(ServiceEndpoints endpoints)
      throws Exception {
    var factory = new com.rabbitmq.client.ConnectionFactory();
    factory.setUri(endpoints.rabbitmq());
    try (var connection = factory.newConnection("api-security-it")) {
      var channel = connection.createChannel();
      channel.confirmSelect();
      var forged = new com.rabbitmq.client.AMQP.BasicProperties.Builder().userId("mallory").build();
      channel.basicPublish(
          app.getBean(Topology.class).submitExchange(),
          app.getBean(Topology.class).submitRoutingKey(),
          forged,
          noop().getBytes(StandardCharsets.UTF_8));
      assertThatThrownBy(() -> channel.waitForConfirmsOrDie(5_000))
          .as("what makes user_id trustworthy")
          .hasStackTraceContaining("user_id property set to 'mallory'");
    }
  }

  private static void send(
      org.springframework.amqp.rabbit.core.RabbitTemplate template,
      Topology topology,
      String body,
      String userId) {
    var message =
        org.springframework.amqp.core.MessageBuilder.withBody(
            body.getBytes(StandardCharsets.UTF_8));
    if (userId != null) {
      message.setUserId(userId);
    }
    template.send(topology.submitExchange(), topology.submitRoutingKey(), message.build());
  }

  // ---- grants change without a restart

  /** The policy file's grants: the revocable principal's, while not revoked; the late key. */
  private boolean revocableGranted = true;

  private boolean lateKey;

  private synchronized void writePolicy() throws Exception {
    StringBuilder file = new StringBuilder("apiKeys:\n");
    if (lateKey) {
      file.append("  - {name: late, sha256: ")
          .append(TestApiKeys.sha256(LATE_KEY))
          .append(", tenant: acme}\n");
    }
    file.append("grants:\n");
    if (lateKey) {
      file.append("  - {principals: [late], types: [demo.noop], operations: [read]}\n");
    }
    if (revocableGranted) {
      file.append("  - {principals: [revocable], types: [demo.noop], operations: [submit]}\n");
    }
    Files.writeString(
        policyFile, file.toString().replace("apiKeys:\ngrants:", "apiKeys: []\ngrants:"));
  }

  @Test
  void aJobWhoseGrantWasRevokedBeforeItsDispatchIsNotHandedOutAndEndsForbidden() throws Exception {
    String later = Instant.now().plusSeconds(3).toString();
    String scheduled = "{\"type\":\"demo.noop\",\"payload\":{},\"notBefore\":\"" + later + "\"}";
    String revoked = submit(REVOCABLE_KEY, scheduled);
    String kept = submit(ACME_KEY, scheduled);

    revocableGranted = false;
    writePolicy();
    await()
        .atMost(Duration.ofSeconds(10))
        .until(
            () ->
                send(request("/api/v1/jobs", REVOCABLE_KEY).POST(body(noop()))).statusCode()
                    == 403);
    await()
        .atMost(Duration.ofSeconds(20))
        .untilAsserted(
            () -> {
              JobView job = view(revoked, TestApiKeys.ADMIN_KEY);
              assertThat(job.state()).isEqualTo(JobState.DEAD);
              assertThat(job.lastError()).startsWith("forbidden: revocable may no longer submit");
            });
    await()
        .atMost(Duration.ofSeconds(20))
        .until(() -> view(kept, ACME_KEY).state() == JobState.QUEUED);
    var meters = app.getBean(io.micrometer.core.instrument.MeterRegistry.class);
    assertThat(meters.find("shepherd.jobs.forbidden").counter())
        .as("counted")
        .satisfies(c -> assertThat(c.count()).isPositive());
  }

  @Test
  void aJobOfATypeItsPoolIsNotGrantedIsNotHandedOut() throws Exception {
    String flaky = submit(TestApiKeys.ADMIN_KEY, "{\"type\":\"demo.flaky\",\"payload\":{}}");
    String noop = submit(TestApiKeys.ADMIN_KEY, noop());
    await()
        .atMost(Duration.ofSeconds(10))
        .untilAsserted(
            () -> {
              JobView job = view(flaky, TestApiKeys.ADMIN_KEY);
              assertThat(job.state()).isEqualTo(JobState.DEAD);
              assertThat(job.lastError())
                  .isEqualTo(
                      "forbidden: worker pool 'default' is not granted jobs of type 'demo.flaky'");
            });
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> view(noop, TestApiKeys.ADMIN_KEY).state() == JobState.QUEUED);
  }

  @Test
  void aKeyAddedToThePolicyFileWorksWithoutARestart() throws Exception {
    assertThat(send(request("/api/v1/jobs?limit=1", LATE_KEY).GET()).statusCode()).isEqualTo(401);
    lateKey = true;
    writePolicy();
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> send(request("/api/v1/jobs?limit=1", LATE_KEY).GET()).statusCode() == 200);
    assertProblem(
        send(request("/api/v1/jobs", LATE_KEY).POST(body(noop()))), 403, "may not submit");
  }

  @Test
  void aSchedulerWithAccessControlButNoWayToAuthenticateRefusesToStart(ServiceEndpoints endpoints) {
    Map<String, Object> bare = new HashMap<>(endpoints.asSpringProperties());
    bare.put("server.port", "0");
    bare.put("shepherd.messaging.prefix", prefix + "-bare");
    bare.put("shepherd.store.prefix", prefix + "-bare");
    assertThatThrownBy(
            () ->
                new SpringApplicationBuilder(SchedulerApplication.class)
                    .run(InProcessScheduler.arguments(bare)))
        .hasStackTraceContaining("nobody could call the API");
  }

  // ---- helpers

  private static String noop() {
    return "{\"type\":\"demo.noop\",\"payload\":{}}";
  }

  private HttpRequest.Builder request(String path, String key) {
    HttpRequest.Builder request =
        HttpRequest.newBuilder(base.resolve(path)).timeout(Duration.ofSeconds(10));
    if (key != null) {
      request.header("X-Api-Key", key);
    }
    return request.header("Content-Type", "application/json");
  }

  private HttpRequest.Builder bearer(String path, String token) {
    return request(path, null).header("Authorization", "Bearer " + token);
  }

  private static HttpRequest.BodyPublisher body(String json) {
    return HttpRequest.BodyPublishers.ofString(json);
  }

  private static HttpRequest.BodyPublisher empty() {
    return HttpRequest.BodyPublishers.noBody();
  }

  private HttpResponse<String> send(HttpRequest.Builder request) throws Exception {
    return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
  }

  private String submit(String key, String json) throws Exception {
    var response = send(request("/api/v1/jobs", key).POST(body(json)));
    assertThat(response.statusCode()).as(response.body()).isIn(200, 202);
    return json(response).get("jobId").asString();
  }

  private JobView view(String id, String key) throws Exception {
    var response = send(request("/api/v1/jobs/" + id, key).GET());
    assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
    return Json.mapper().readValue(response.body(), JobView.class);
  }

  private static String token(String subject, String tenant, List<String> groups, RSAKey key)
      throws Exception {
    var claims =
        new JWTClaimsSet.Builder()
            .subject(subject)
            .claim("groups", groups)
            .expirationTime(Date.from(Instant.now().plusSeconds(600)));
    if (tenant != null) {
      claims.claim("tenant", tenant);
    }
    return sign(claims.build(), key);
  }

  private static String sign(JWTClaimsSet claims, RSAKey key) throws Exception {
    SignedJWT jwt =
        new SignedJWT(
            new JWSHeader.Builder(JWSAlgorithm.RS256).keyID(key.getKeyID()).build(), claims);
    jwt.sign(new RSASSASigner(key));
    return jwt.serialize();
  }

  private static JsonNode json(HttpResponse<String> response) {
    return Json.mapper().readTree(response.body());
  }
}
