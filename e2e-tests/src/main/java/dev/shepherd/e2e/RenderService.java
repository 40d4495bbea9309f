package dev.shepherd.e2e;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.shepherd.distribution.http.CallbackSignatures;
import dev.shepherd.model.Json;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * A service in another language, as the {@code http} distributor sees one (ADR 44, 45), for {@code
 * make demo} and {@code HttpDistributorE2EIT}: it takes an attempt's POST at {@code /render},
 * answers 202, and reports later by signed callbacks to the attempt's callback URL. What it does
 * with a job comes from the payload's {@code mode}: {@code succeed} (a phase with progress, then
 * SUCCEEDED), {@code fail-first} (the first attempt FAILED retryable, the next ones succeed),
 * {@code silent} (never calls back) and {@code hold} (waits for the test to call back by hand). It
 * records every request it gets, and a DELETE of {@code /render/<token>} as that task's cancel.
 */
public final class RenderService implements AutoCloseable {

  /** One attempt as the service received it. */
  public record Received(
      String jobId,
      int attempt,
      long fencingToken,
      String mode,
      URI callbackUrl,
      String callbackSecret,
      String idempotencyKey) {}

  private final HttpServer server;
  private final HttpClient http = HttpClient.newHttpClient();
  private final ExecutorService callbacks = Executors.newVirtualThreadPerTaskExecutor();
  public final List<Received> runs = new CopyOnWriteArrayList<>();
  public final List<String> cancels = new CopyOnWriteArrayList<>();

  /** Each callback's answer, by job id: its status codes in order. */
  public final Map<String, List<Integer>> answers = new ConcurrentHashMap<>();

  public RenderService() throws IOException {
    server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext("/render", this::handle);
    server.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
    server.start();
  }

  public URI endpoint() {
    return URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/render");
  }

  public List<Received> runsOf(String jobId) {
    return runs.stream().filter(r -> r.jobId().equals(jobId)).toList();
  }

  private void handle(HttpExchange exchange) throws IOException {
    try (exchange) {
      if ("GET".equals(exchange.getRequestMethod())) {
        answerStatus(exchange);
        return;
      }
      if ("DELETE".equals(exchange.getRequestMethod())) {
        String path = exchange.getRequestURI().getPath();
        cancels.add(path.substring(path.lastIndexOf('/') + 1));
        exchange.sendResponseHeaders(204, -1);
        return;
      }
      JsonNode body = Json.mapper().readTree(exchange.getRequestBody().readAllBytes());
      var received =
          new Received(
              body.path("jobId").asString(),
              body.path("attempt").asInt(),
              body.path("fencingToken").asLong(),
              body.at("/payload/mode").asString(),
              URI.create(body.path("callbackUrl").asString()),
              body.path("callbackSecret").asString(),
              exchange.getRequestHeaders().getFirst("Idempotency-Key"));
      runs.add(received);
      exchange.sendResponseHeaders(202, -1);
      callbacks.submit(() -> play(received));
    }
  }

  /**
   * {@code GET /render/<task>}: the task's status for the {@code statusUrl} setting. A {@code
   * status-only} task (one that never calls back) has SUCCEEDED; any other known one is RUNNING; an
   * unknown one is 404.
   */
  private void answerStatus(HttpExchange exchange) throws IOException {
    String path = exchange.getRequestURI().getPath();
    String task = path.substring(path.lastIndexOf('/') + 1);
    var run = runs.stream().filter(r -> r.idempotencyKey().equals(task)).findFirst();
    if (run.isEmpty()) {
      exchange.sendResponseHeaders(404, -1);
      return;
    }
    String status = "status-only".equals(run.get().mode()) ? "SUCCEEDED" : "RUNNING";
    byte[] body = ("{\"status\":\"" + status + "\"}").getBytes(StandardCharsets.UTF_8);
    exchange.getResponseHeaders().add("Content-Type", "application/json");
    exchange.sendResponseHeaders(200, body.length);
    exchange.getResponseBody().write(body);
  }

  /** What the service does with an attempt, after its 202. */
  private void play(Received run) {
    switch (run.mode()) {
      case "succeed" -> {
        callBack(run, event(run, "PHASE_STARTED", 1).put("phase", "render"));
        callBack(run, event(run, "PROGRESS", 2).put("percent", 50).put("message", "page 5 of 10"));
        callBack(run, event(run, "PHASE_ENDED", 3).put("phase", "render"));
        callBack(run, event(run, "SUCCEEDED", 4));
      }
      case "fail-first" -> {
        if (run.attempt() == 1) {
          callBack(
              run, event(run, "FAILED", 1).put("error", "renderer busy").put("retryable", true));
        } else {
          callBack(run, event(run, "SUCCEEDED", 1));
        }
      }
      default -> {} // silent, hold: nothing now
    }
  }

  /** A status event of {@code run}, in its wire form, for the service to add to and send. */
  public static ObjectNode event(Received run, String name, long sequence) {
    ObjectNode event = Json.mapper().createObjectNode();
    event.put("event", name);
    event.put("jobId", run.jobId());
    event.put("attempt", run.attempt());
    event.put("fencingToken", run.fencingToken());
    event.put("sequence", sequence);
    event.put("at", Instant.now().toString());
    return event;
  }

  /** Sends one callback signed with the attempt's own secret, now; returns the status code. */
  public int callBack(Received run, ObjectNode event) {
    return callBack(run, event, run.callbackSecret(), Instant.now());
  }

  /** Sends one callback signed with {@code secret} at {@code at}; returns the status code. */
  public int callBack(Received run, ObjectNode event, String secret, Instant at) {
    String body = Json.mapper().writeValueAsString(event);
    String timestamp = Long.toString(at.getEpochSecond());
    String signature =
        CallbackSignatures.sign(secret, "POST", run.callbackUrl().getPath(), timestamp, body);
    HttpRequest request =
        HttpRequest.newBuilder(run.callbackUrl())
            .header("Content-Type", "application/json")
            .header(CallbackSignatures.TIMESTAMP_HEADER, timestamp)
            .header(CallbackSignatures.SIGNATURE_HEADER, signature)
            .POST(HttpRequest.BodyPublishers.ofString(body, StandardCharsets.UTF_8))
            .build();
    try {
      int status = http.send(request, HttpResponse.BodyHandlers.discarding()).statusCode();
      answers.computeIfAbsent(run.jobId(), id -> new CopyOnWriteArrayList<>()).add(status);
      return status;
    } catch (IOException e) {
      throw new IllegalStateException("callback to " + run.callbackUrl() + " failed", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }

  @Override
  public void close() {
    server.stop(0);
    callbacks.shutdownNow();
    http.close();
  }
}
