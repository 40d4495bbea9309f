package dev.shepherd.distribution.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.sun.net.httpserver.HttpServer;
import dev.shepherd.distribution.AttemptRequest;
import dev.shepherd.distribution.DistributorCalls;
import dev.shepherd.distribution.DistributorConfig;
import dev.shepherd.distribution.Fixtures;
import dev.shepherd.distribution.InvalidDistributorConfigException;
import dev.shepherd.distribution.InvalidDistributorConfigException.Problem;
import dev.shepherd.distribution.Notification;
import dev.shepherd.distribution.PermanentDistributorException;
import dev.shepherd.distribution.Started;
import dev.shepherd.distribution.TaskStatus;
import dev.shepherd.distribution.TaskToken;
import dev.shepherd.distribution.TransientDistributorException;
import dev.shepherd.distribution.http.CallbackSignatures.AttemptKey;
import dev.shepherd.model.Json;
import dev.shepherd.model.StatusEvent;
import dev.shepherd.testsupport.SettableClock;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The http distributor against a real HTTP server on a free local port: what each answer means, and
 * which callbacks it turns into events.
 */
class HttpDistributorTest {

  private record Answer(int status, String body, boolean hang) {}

  private record Received(String method, String path, String idempotencyKey, String body) {}

  private static final Instant NOW = Instant.parse("2026-12-01T10:00:00Z");

  private final ConcurrentLinkedQueue<Answer> answers = new ConcurrentLinkedQueue<>();
  private final List<Received> received = Collections.synchronizedList(new ArrayList<>());
  private final CountDownLatch hung = new CountDownLatch(1);
  private final SettableClock clock = new SettableClock(NOW);
  private final CallbackSignatures signatures =
      new CallbackSignatures(CallbackSignaturesTest.KEY, Duration.ofMinutes(5), clock);
  private final HttpClient client =
      HttpClient.newBuilder()
          .version(HttpClient.Version.HTTP_1_1)
          .connectTimeout(Duration.ofSeconds(2))
          .build();
  private final HttpDistributor http =
      new HttpDistributor(client, signatures, URI.create("https://shepherd.example"));

  private ExecutorService threads;
  private HttpServer server;
  private String endpoint;

  @BeforeEach
  void startServer() throws IOException {
    threads = Executors.newCachedThreadPool();
    server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.setExecutor(threads);
    server.createContext(
        "/run",
        exchange -> {
          String body =
              new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
          received.add(
              new Received(
                  exchange.getRequestMethod(),
                  exchange.getRequestURI().getRawPath(),
                  exchange.getRequestHeaders().getFirst("Idempotency-Key"),
                  body));
          Answer answer = answers.poll();
          if (answer == null) {
            answer = new Answer(202, "", false);
          }
          if (answer.hang()) {
            try {
              hung.await(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
              Thread.currentThread().interrupt();
            }
          }
          byte[] bytes = answer.body().getBytes(StandardCharsets.UTF_8);
          exchange.sendResponseHeaders(answer.status(), bytes.length == 0 ? -1 : bytes.length);
          if (bytes.length > 0) {
            exchange.getResponseBody().write(bytes);
          }
          exchange.close();
        });
    server.start();
    endpoint = "http://127.0.0.1:" + server.getAddress().getPort() + "/run";
  }

  @AfterEach
  void stopServer() {
    hung.countDown();
    server.stop(0);
    threads.shutdownNow();
  }

  private AttemptRequest attempt(Map<String, String> extra) {
    var settings = new java.util.HashMap<>(extra);
    settings.putIfAbsent("endpoint", endpoint);
    return Fixtures.attempt(new DistributorConfig("http", settings));
  }

  @Test
  void aServiceThatAccepts202StartsTheTaskWithTheLimitsTheTypeAsks() {
    var attempt = attempt(Map.of("timeToStart", "PT1M", "timeToRun", "PT30M"));

    Started started = http.run(attempt);

    assertThat(started)
        .isEqualTo(
            new Started(
                new TaskToken(attempt.jobId() + ".2.1796170800000017"),
                Duration.ofMinutes(1),
                Duration.ofMinutes(30),
                null));
    Received post = received.getFirst();
    assertThat(post.method()).isEqualTo("POST");
    assertThat(post.idempotencyKey()).isEqualTo(started.token().value());
    var body = Json.mapper().readTree(post.body());
    assertThat(body.path("jobId").asString()).isEqualTo(attempt.jobId());
    assertThat(body.path("fencingToken").asLong()).isEqualTo(attempt.fencingToken());
    assertThat(body.path("callbackSecret").asString())
        .isEqualTo(
            signatures.secret(
                new AttemptKey(attempt.jobId(), attempt.attempt(), attempt.fencingToken())));
    assertThat(body.path("callbackUrl").asString())
        .isEqualTo("https://shepherd.example/api/v1/attempts/" + attempt.jobId() + ".2/events");
  }

  @Test
  void aRetriedRunNamesTheSameTask() {
    var attempt = attempt(Map.of());

    assertThat(http.run(attempt).token()).isEqualTo(http.run(attempt).token());
    assertThat(received)
        .extracting(Received::idempotencyKey)
        .containsOnly(received.getFirst().idempotencyKey());
  }

  @Test
  void aServerErrorIsTransient() {
    answers.add(new Answer(503, "busy", false));

    assertThatThrownBy(() -> http.run(attempt(Map.of())))
        .isInstanceOf(TransientDistributorException.class)
        .hasMessageEndingWith("answered 503: busy");
  }

  @Test
  void aClientErrorIsPermanentWithTheBodysReason() {
    answers.add(
        new Answer(
            400,
            "{\"type\":\"about:blank\",\"title\":\"Bad Request\",\"detail\":\"payload.report: unknown report 'weekly'\"}",
            false));

    assertThatThrownBy(() -> http.run(attempt(Map.of())))
        .isInstanceOf(PermanentDistributorException.class)
        .hasMessageEndingWith("answered 400: payload.report: unknown report 'weekly'");
  }

  @Test
  void aServiceThatDoesNotAnswerInTimeIsTransient() {
    answers.add(new Answer(202, "", true));

    assertThatThrownBy(() -> http.run(attempt(Map.of("requestTimeout", "PT0.3S"))))
        .isInstanceOf(TransientDistributorException.class)
        .hasMessageContaining("HttpTimeoutException");
  }

  @Test
  void aServiceThatIsNotListeningIsTransient() throws IOException {
    int closed;
    try (var socket = new ServerSocket(0)) {
      closed = socket.getLocalPort();
    }

    assertThatThrownBy(
            () -> http.run(attempt(Map.of("endpoint", "http://127.0.0.1:" + closed + "/run"))))
        .isInstanceOf(TransientDistributorException.class);
  }

  @Test
  void retriedCallsRunTheTaskOnceTheServiceRecovers() {
    answers.add(new Answer(503, "", false));
    answers.add(new Answer(502, "", false));
    var calls =
        new DistributorCalls(
            3,
            Duration.ofMillis(10),
            Duration.ofMillis(10),
            Duration.ofSeconds(30),
            d -> {},
            Clock.systemUTC());
    var attempt = attempt(Map.of());

    Started started = calls.call("run", () -> http.run(attempt));

    assertThat(received).hasSize(3);
    assertThat(started.token()).isEqualTo(HttpDistributor.tokenOf(attempt));
  }

  @Test
  void cancellingATaskTheServiceNoLongerKnowsIsNotAnError() {
    var attempt = attempt(Map.of());
    answers.add(new Answer(404, "", false));

    http.cancel(attempt, HttpDistributor.tokenOf(attempt));

    assertThat(received.getFirst().method()).isEqualTo("DELETE");
    assertThat(received.getFirst().path()).isEqualTo("/run/" + HttpDistributor.tokenOf(attempt));
  }

  @Test
  void theInfoUrlIsTheTypesTemplateForTheAttempt() {
    var attempt = attempt(Map.of("infoUrl", "https://svc.example/runs/{jobId}/{attempt}"));

    assertThat(http.infoUrl(attempt, HttpDistributor.tokenOf(attempt)))
        .contains(URI.create("https://svc.example/runs/" + attempt.jobId() + "/2"));
    assertThat(http.infoUrl(attempt(Map.of()), HttpDistributor.tokenOf(attempt))).isEmpty();
  }

  @Test
  void withoutAStatusUrlATaskIsTakenAsRunning() {
    var attempt = attempt(Map.of());

    assertThat(http.status(attempt, HttpDistributor.tokenOf(attempt)))
        .isEqualTo(new TaskStatus.Running());
    assertThat(received).as("nothing asked").isEmpty();
  }

  @Test
  void theStatusUrlIsPolledAndItsAnswerIsTheTasksStatus() {
    var attempt = attempt(Map.of("statusUrl", endpoint + "/{task}?job={jobId}&n={attempt}"));
    TaskToken token = HttpDistributor.tokenOf(attempt);
    answers.add(new Answer(200, "{\"status\":\"PENDING\"}", false));
    answers.add(new Answer(200, "{\"status\":\"RUNNING\"}", false));
    answers.add(new Answer(200, "{\"status\":\"SUCCEEDED\"}", false));
    answers.add(
        new Answer(
            200, "{\"status\":\"FAILED\",\"reason\":\"disk full\",\"retryable\":false}", false));

    assertThat(http.status(attempt, token)).isEqualTo(new TaskStatus.Pending());
    assertThat(http.status(attempt, token)).isEqualTo(new TaskStatus.Running());
    assertThat(http.status(attempt, token)).isEqualTo(new TaskStatus.Succeeded());
    assertThat(http.status(attempt, token)).isEqualTo(new TaskStatus.Failed("disk full", false));
    assertThat(received.getFirst().method()).isEqualTo("GET");
    assertThat(received.getFirst().path()).isEqualTo("/run/" + token.value());
  }

  @Test
  void aStatusTheServiceNoLongerKnowsIsPermanentAndAnUnreadableOneTransient() {
    var attempt = attempt(Map.of("statusUrl", endpoint + "/{task}"));
    TaskToken token = HttpDistributor.tokenOf(attempt);
    answers.add(new Answer(404, "", false));
    answers.add(new Answer(200, "{\"status\":\"DONE\"}", false));
    answers.add(new Answer(503, "", false));

    assertThatThrownBy(() -> http.status(attempt, token))
        .isInstanceOf(PermanentDistributorException.class)
        .hasMessageContaining("does not know it");
    assertThatThrownBy(() -> http.status(attempt, token))
        .isInstanceOf(TransientDistributorException.class)
        .hasMessageContaining("'DONE'");
    assertThatThrownBy(() -> http.status(attempt, token))
        .isInstanceOf(TransientDistributorException.class);
  }

  @Test
  void validationNamesEveryWrongSetting() {
    var config =
        new DistributorConfig(
            "http", Map.of("endpoint", "ftp://svc/run", "timeToRun", "30 minutes", "retries", "3"));

    var e =
        catchThrowableOfType(
            InvalidDistributorConfigException.class, () -> http.validate("report.render", config));

    assertThat(e.problems())
        .extracting(Problem::field)
        .containsExactlyInAnyOrder("endpoint", "timeToRun", "retries");
    assertThat(e)
        .hasMessageContaining(
            "job type 'report.render': endpoint must be an absolute http or https URL");
    assertThatThrownBy(() -> http.validate("t", new DistributorConfig("http", Map.of())))
        .hasMessageContaining("job type 't': endpoint is required");
    http.validate("t", new DistributorConfig("http", Map.of("endpoint", "https://svc/run")));
  }

  @Test
  void aSignedCallbackBecomesTheAttemptsEvent() {
    var attempt = attempt(Map.of());
    TaskToken token = HttpDistributor.tokenOf(attempt);
    String body = progress(attempt, attempt.fencingToken());

    List<StatusEvent> events = http.handleNotification(attempt, token, signed(attempt, body));

    assertThat(events)
        .containsExactly(
            new StatusEvent.Progress(
                attempt.jobId(),
                "report.render",
                2,
                attempt.fencingToken(),
                7,
                "http:" + token,
                NOW,
                40,
                "rendering"));
  }

  @Test
  void aForgedCallbackIsRefused() {
    var attempt = attempt(Map.of());
    String body = progress(attempt, attempt.fencingToken());
    var forged =
        new Notification(
            Map.of(
                HttpDistributor.METHOD,
                "POST",
                HttpDistributor.PATH,
                HttpAttemptRequest.callbackPath(attempt.jobId(), 2),
                CallbackSignatures.TIMESTAMP_HEADER,
                Long.toString(NOW.getEpochSecond()),
                CallbackSignatures.SIGNATURE_HEADER,
                "v1=" + "00".repeat(32)),
            body);

    assertThatThrownBy(
            () -> http.handleNotification(attempt, HttpDistributor.tokenOf(attempt), forged))
        .isInstanceOf(PermanentDistributorException.class)
        .hasMessageStartingWith("callback refused (BAD_SIGNATURE)");
  }

  @Test
  void aCallbackForAStaleTokenIsRefused() {
    var attempt = attempt(Map.of());
    String body = progress(attempt, attempt.fencingToken() - 1);

    assertThatThrownBy(
            () ->
                http.handleNotification(
                    attempt, HttpDistributor.tokenOf(attempt), signed(attempt, body)))
        .isInstanceOf(PermanentDistributorException.class)
        .hasMessageStartingWith("callback refused (WRONG_ATTEMPT)");
  }

  @Test
  void aCallbackThatIsNotAStatusEventIsRefused() {
    var attempt = attempt(Map.of());

    assertThatThrownBy(
            () ->
                http.handleNotification(
                    attempt,
                    HttpDistributor.tokenOf(attempt),
                    signed(attempt, "{\"event\":\"EXPLODED\"}")))
        .isInstanceOf(PermanentDistributorException.class)
        .isInstanceOfSatisfying(
            CallbackRefusedException.class,
            e -> assertThat(e.refusal()).isEqualTo(CallbackSignatures.Refusal.UNREADABLE))
        .hasMessageContaining("the body is not a status event");
  }

  private static String progress(AttemptRequest attempt, long fencingToken) {
    return "{\"event\":\"PROGRESS\",\"jobId\":\""
        + attempt.jobId()
        + "\",\"attempt\":2,\"fencingToken\":"
        + fencingToken
        + ",\"sequence\":7,\"at\":\"2026-12-01T10:00:00Z\",\"percent\":40,\"message\":\"rendering\"}";
  }

  private Notification signed(AttemptRequest attempt, String body) {
    String path = HttpAttemptRequest.callbackPath(attempt.jobId(), attempt.attempt());
    String timestamp = Long.toString(clock.instant().getEpochSecond());
    String secret =
        signatures.secret(
            new AttemptKey(attempt.jobId(), attempt.attempt(), attempt.fencingToken()));
    return new Notification(
        Map.of(
            HttpDistributor.METHOD,
            "POST",
            HttpDistributor.PATH,
            path,
            CallbackSignatures.TIMESTAMP_HEADER,
            timestamp,
            CallbackSignatures.SIGNATURE_HEADER,
            CallbackSignatures.sign(secret, "POST", path, timestamp, body)),
        body);
  }
}
