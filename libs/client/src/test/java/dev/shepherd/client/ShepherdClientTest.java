package dev.shepherd.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.shepherd.model.JobState;
import dev.shepherd.model.JobSubmission;
import dev.shepherd.model.JobView;
import dev.shepherd.model.Json;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The client against a tiny in-process server that plays the scheduler's REST API. */
class ShepherdClientTest {

  private HttpServer server;
  private ShepherdClient client;
  private final AtomicReference<String> state = new AtomicReference<>("RUNNING");
  private final AtomicInteger gets = new AtomicInteger();
  private final java.util.concurrent.ExecutorService exchanges = Executors.newCachedThreadPool();

  @BeforeEach
  void start() throws IOException {
    server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext("/api/v1/jobs", this::jobs);
    // a thread per exchange: one handler may hold its exchange while another is answered
    server.setExecutor(exchanges);
    server.start();
    client =
        ShepherdClient.builder()
            .httpBaseUri(URI.create("http://127.0.0.1:" + server.getAddress().getPort()))
            .requestTimeout(Duration.ofSeconds(2))
            .build();
  }

  @AfterEach
  void stop() {
    client.close();
    server.stop(0);
    exchanges.shutdownNow();
  }

  private void jobs(HttpExchange exchange) throws IOException {
    String path = exchange.getRequestURI().getPath();
    if (exchange.getRequestMethod().equals("POST")) {
      String body = new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
      if (body.contains("\"bad\"")) {
        respond(
            exchange,
            422,
            "application/problem+json",
            "{\"title\":\"Invalid submission\",\"status\":422,\"detail\":\"/type: unknown\","
                + "\"errors\":[{\"field\":\"/type\",\"message\":\"unknown job type 'bad'\"}]}");
      } else if (body.contains("again")) {
        respond(
            exchange,
            200,
            "application/json",
            "{\"jobId\":\"01-a\",\"state\":\"QUEUED\",\"duplicate\":true}");
      } else {
        respond(
            exchange,
            202,
            "application/json",
            "{\"jobId\":\"01-a\",\"state\":\"SUBMITTED\",\"duplicate\":false}");
      }
    } else if (path.equals("/api/v1/jobs/01-a")) {
      gets.incrementAndGet();
      respond(
          exchange,
          200,
          "application/json",
          "{\"id\":\"01-a\",\"type\":\"demo.noop\",\"state\":\""
              + state.get()
              + "\",\"attempt\":1,\"maxAttempts\":3,\"submittedAt\":\"2026-01-01T00:00:00Z\"}");
    } else {
      respond(
          exchange, 404, "application/problem+json", "{\"title\":\"Not found\",\"status\":404}");
    }
  }

  private static void respond(HttpExchange exchange, int status, String type, String body)
      throws IOException {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    exchange.getResponseHeaders().add("Content-Type", type);
    exchange.sendResponseHeaders(status, bytes.length);
    exchange.getResponseBody().write(bytes);
    exchange.close();
  }

  private static JobSubmission job(String type) {
    return JobSubmission.of(type, Json.mapper().createObjectNode());
  }

  @Test
  void aSubmissionReturnsTheReceiptAndADuplicateSaysSo() {
    assertThat(client.submit(job("demo.noop")).duplicate()).isFalse();
    var again = client.submit(job("demo.noop").withIdempotencyKey("again"));
    assertThat(again.duplicate()).isTrue();
    assertThat(again.jobId()).isEqualTo("01-a");
  }

  @Test
  void aRejectionCarriesTheStatusAndTheFieldsTheSchedulerNamed() {
    assertThatThrownBy(() -> client.submit(job("bad")))
        .isInstanceOfSatisfying(
            ShepherdClientException.class,
            e -> {
              assertThat(e.status()).isEqualTo(422);
              assertThat(e.title()).isEqualTo("Invalid submission");
              assertThat(e.fieldErrors())
                  .containsExactly(
                      new ShepherdClientException.FieldError("/type", "unknown job type 'bad'"));
            });
  }

  @Test
  void anUnknownJobIsEmpty() {
    assertThat(client.get("02-nope")).isEmpty();
    assertThat(client.get("01-a")).map(JobView::state).contains(JobState.RUNNING);
  }

  @Test
  void awaitCompletesOnceTheJobIsTerminal() throws Exception {
    var future = client.await("01-a", Duration.ofSeconds(10));
    org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> gets.get() >= 2);
    assertThat(future).isNotDone();
    state.set("SUCCEEDED");
    assertThat(future.get(5, TimeUnit.SECONDS).state()).isEqualTo(JobState.SUCCEEDED);
  }

  @Test
  void awaitTimesOutWhenTheJobNeverFinishes() {
    var future = client.await("01-a", Duration.ofMillis(300));
    assertThatThrownBy(() -> future.get(5, TimeUnit.SECONDS))
        .isInstanceOf(ExecutionException.class)
        .hasCauseInstanceOf(TimeoutException.class)
        .hasMessageContaining("01-a");
  }

  /**
   * A scheduler too busy to answer a stream's headers within the request timeout is asked for
   * another stream, not polled: a thousand awaits falling back to polls at once would add load to
   * the scheduler that could not keep up (JobsApiIT's thousand awaits on a loaded machine).
   */
  @Test
  void anEventStreamWhoseHeadersComeLateIsOpenedAgainNotPolled() throws Exception {
    AtomicInteger streams = new AtomicInteger();
    java.util.concurrent.CountDownLatch released = new java.util.concurrent.CountDownLatch(1);
    server.createContext(
        "/api/v1/jobs/01-a/events",
        exchange -> {
          if (streams.incrementAndGet() == 1) {
            try {
              // past the client's 2 s request timeout; the test lets it go when done
              released.await(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
              Thread.currentThread().interrupt();
            }
            exchange.close();
            return;
          }
          respond(
              exchange,
              200,
              "text/event-stream",
              ":waiting for 01-a\n\nevent: finished\ndata: {\"id\":\"01-a\",\"type\":\"demo.noop\","
                  + "\"state\":\"SUCCEEDED\",\"attempt\":1,\"maxAttempts\":3,"
                  + "\"submittedAt\":\"2026-01-01T00:00:00Z\"}\n\n");
        });
    try {
      var future = client.await("01-a", Duration.ofSeconds(20));

      assertThat(future.get(15, TimeUnit.SECONDS).state()).isEqualTo(JobState.SUCCEEDED);
      assertThat(streams).as("a second stream after the first timed out").hasValue(2);
      assertThat(gets).as("reads of the job: no polling").hasValue(0);
    } finally {
      released.countDown();
    }
  }

  @Test
  void anUnreachableSchedulerIsAClearError() {
    var dead = ShepherdClient.builder().httpBaseUri(URI.create("http://127.0.0.1:1")).build();
    assertThatThrownBy(() -> dead.get("01-a"))
        .isInstanceOf(ShepherdClientException.class)
        .hasMessageContaining("cannot reach");
    dead.close();
  }
}
