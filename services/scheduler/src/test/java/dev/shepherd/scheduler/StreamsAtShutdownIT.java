package dev.shepherd.scheduler;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.shepherd.model.Json;
import dev.shepherd.testsupport.ServiceEndpoints;
import dev.shepherd.testsupport.TestApiKeys;
import dev.shepherd.testsupport.TestNames;
import dev.shepherd.testsupport.WithRealServices;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/**
 * A scheduler stopping (SIGTERM: Spring Boot's graceful shutdown) while clients follow its
 * server-sent event streams ends those streams at once, with a comment saying why, instead of
 * waiting for them for the whole graceful-shutdown phase.
 */
@WithRealServices
class StreamsAtShutdownIT {

  /** Far longer than the test waits: a shutdown that waits for the streams hits it. */
  private static final String SHUTDOWN_PHASE = "60s";

  private final HttpClient http = HttpClient.newHttpClient();

  @Test
  void openStreamsEndWhenTheSchedulerStopsSoItsGracefulShutdownDoesNotWaitForThem(
      ServiceEndpoints endpoints, TestNames names) throws Exception {
    var scheduler =
        InProcessScheduler.start(
            endpoints.asSpringProperties(),
            names.prefix(),
            Map.of(
                "server.shutdown",
                "graceful",
                "spring.lifecycle.timeout-per-shutdown-phase",
                SHUTDOWN_PHASE));
    URI base = scheduler.base();
    // a job no worker takes: its events stream has no end of its own
    var submitted = InProcessScheduler.submitNoop(http, base);
    assertThat(submitted.statusCode()).as(submitted.body()).isEqualTo(202);
    String id = Json.mapper().readTree(submitted.body()).path("jobId").asString();

    Stream overview = follow(base.resolve("/console/overview/events"));
    Stream job = follow(base.resolve("/api/v1/jobs/" + id + "/events"));
    await()
        .atMost(Duration.ofSeconds(20))
        .untilAsserted(
            () -> {
              assertThat(overview.lines()).contains("event:overview");
              assertThat(job.lines()).contains(":waiting for " + id);
            });

    var stopped = CompletableFuture.runAsync(scheduler::close);

    await()
        .atMost(Duration.ofSeconds(20))
        .untilAsserted(
            () -> {
              assertThat(overview.end()).as("the overview stream ended").isDone();
              assertThat(job.end()).as("the job's events stream ended").isDone();
              assertThat(stopped).as("the scheduler stopped").isDone();
            });
    stopped.join();
    // a clear end, not a cut: the clients open another stream (EventSource by itself, the Java
    // client's await because no `finished` came)
    assertThat(overview.lines()).contains(":scheduler stopping");
    assertThat(job.lines()).contains(":scheduler stopping").doesNotContain("event:finished");
  }

  @Test
  void aStreamAskedForWhileTheSchedulerStopsEndsCleanlyNotWithAnError(
      ServiceEndpoints endpoints, TestNames names) throws Exception {
    try (var scheduler =
        InProcessScheduler.start(endpoints.asSpringProperties(), names.prefix(), Map.of())) {
      URI base = scheduler.base();
      var submitted = InProcessScheduler.submitNoop(http, base);
      assertThat(submitted.statusCode()).as(submitted.body()).isEqualTo(202);
      String id = Json.mapper().readTree(submitted.body()).path("jobId").asString();
      // the shutdown's first phase has run; the web server still takes requests
      scheduler.app().getBean(EventStreams.class).stop();

      var response =
          http.send(
              HttpRequest.newBuilder(base.resolve("/api/v1/jobs/" + id + "/events"))
                  .header("X-Api-Key", TestApiKeys.ADMIN_KEY)
                  .header("Accept", "text/event-stream")
                  .GET()
                  .build(),
              HttpResponse.BodyHandlers.ofString());

      assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
      assertThat(response.body()).contains(":scheduler stopping").doesNotContain("event:finished");
    }
  }

  /** The lines a client has read so far, and the end of its response's body. */
  private record Stream(List<String> lines, CompletableFuture<Void> end) {}

  private Stream follow(URI uri) {
    List<String> lines = new CopyOnWriteArrayList<>();
    CompletableFuture<Void> end =
        http.sendAsync(
                HttpRequest.newBuilder(uri)
                    .header("X-Api-Key", TestApiKeys.ADMIN_KEY)
                    .header("Accept", "text/event-stream")
                    .GET()
                    .build(),
                HttpResponse.BodyHandlers.ofLines())
            .thenAcceptAsync(
                response -> {
                  assertThat(response.statusCode()).isEqualTo(200);
                  try (var body = response.body()) {
                    body.forEach(lines::add);
                  }
                });
    return new Stream(lines, end);
  }
}
