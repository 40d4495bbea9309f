package dev.shepherd.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.shepherd.distribution.AttemptRequest;
import dev.shepherd.distribution.DistributorCalls;
import dev.shepherd.distribution.DistributorConfig;
import dev.shepherd.distribution.Notification;
import dev.shepherd.distribution.TaskToken;
import dev.shepherd.distribution.http.CallbackSignatures;
import dev.shepherd.distribution.http.HttpAttemptRequest;
import dev.shepherd.distribution.http.HttpDistributor;
import dev.shepherd.messaging.OutgoingMessage;
import dev.shepherd.model.JobState;
import dev.shepherd.model.JobTimeouts;
import dev.shepherd.model.Json;
import dev.shepherd.model.StatusEvent;
import dev.shepherd.model.WorkMessage;
import dev.shepherd.model.WorkerControl;
import dev.shepherd.store.CancelResult;
import dev.shepherd.testsupport.WithRealServices;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/**
 * A job type run on an HTTP service through the {@code http} distributor (ADR 45), by an ordinary
 * worker: the service is a real HTTP server on a free port, the worker claims, runs and reports on
 * the real broker and Redis, and the test plays the scheduler's part, checking each callback the
 * service would make with the attempt's secret and forwarding its events to the worker holding the
 * attempt as a NOTIFY order. Outcomes are applied to the store as the status-tracker does.
 */
@WithRealServices
class DistributedHandlerIT extends WorkerRuntimeFixture {

  private static final String TYPE = "test.plain";
  private static final String WORKER = "w-0";
  private static final byte[] SERVER_KEY =
      "a server key of at least 32 bytes, as the scheduler has".getBytes(StandardCharsets.UTF_8);
  private static final URI CALLBACK_BASE = URI.create("http://scheduler.test:8080");

  private final CallbackSignatures signatures =
      new CallbackSignatures(SERVER_KEY, CallbackSignatures.DEFAULT_TOLERANCE, Clock.systemUTC());
  private final HttpDistributor distributor =
      new HttpDistributor(HttpClient.newHttpClient(), signatures, CALLBACK_BASE);
  private final RemoteReports reports = new RemoteReports();
  private TaskService service;

  @BeforeEach
  void startService() throws IOException {
    service = new TaskService();
  }

  @AfterEach
  void stopService() {
    service.close();
  }

  @Test
  void theServiceGetsOneSignedRunAndTheJobSucceedsWithTheRemotePhaseAndProgressRecorded() {
    startWorker(Map.of());
    WorkMessage work = dispatch(TYPE, "{\"report\":7}");

    Request run = service.awaitRuns(1).getFirst();
    JsonNode body = run.json();
    long token = body.get("fencingToken").asLong();
    String taskToken = work.jobId() + ".1." + token;
    assertThat(run.header("Content-Type")).isEqualTo("application/json");
    assertThat(run.header("Idempotency-Key")).isEqualTo(taskToken);
    assertThat(run.path()).isEqualTo("/tasks");
    assertThat(body.get("jobId").asString()).isEqualTo(work.jobId());
    assertThat(body.get("type").asString()).isEqualTo(TYPE);
    assertThat(body.get("attempt").asInt()).isEqualTo(1);
    assertThat(body.get("payload")).isEqualTo(Json.mapper().readTree("{\"report\":7}"));
    assertThat(body.has("deadline")).isFalse();
    assertThat(body.get("callbackUrl").asString())
        .isEqualTo("http://scheduler.test:8080/api/v1/attempts/" + work.jobId() + ".1/events");
    assertThat(body.get("callbackSecret").asString())
        .isEqualTo(signatures.secret(new CallbackSignatures.AttemptKey(work.jobId(), 1, token)))
        .hasSize(64);

    callBack(
        run,
        e -> new StatusEvent.PhaseStarted(e.jobId, TYPE, 1, e.token, 1, "svc", e.at, "render"));
    callBack(
        run, e -> new StatusEvent.Progress(e.jobId, TYPE, 1, e.token, 2, "svc", e.at, 50, "half"));
    callBack(
        run, e -> new StatusEvent.PhaseEnded(e.jobId, TYPE, 1, e.token, 3, "svc", e.at, "render"));
    callBack(run, e -> new StatusEvent.Succeeded(e.jobId, TYPE, 1, e.token, 4, "svc", e.at));

    List<Received> events = awaitEvents(work.jobId(), this::hasOutcome);
    assertThat(events)
        .extracting(r -> r.event().eventName())
        .containsExactly("PHASE_STARTED", "PROGRESS", "PHASE_ENDED", "SUCCEEDED");
    assertThat(events)
        .allSatisfy(
            r -> {
              assertThat(r.event().workerId()).isEqualTo(WORKER);
              assertThat(r.event().fencingToken()).isEqualTo(token);
            });
    applyAsTheTrackerDoes(events);
    var job = store.queries().find(work.jobId()).orElseThrow();
    assertThat(job.state()).isEqualTo(JobState.SUCCEEDED);
    assertThat(job.progressPercent()).isEqualTo(50);
    assertThat(job.progressMessage()).isEqualTo("half");
    assertThat(job.phases())
        .singleElement()
        .satisfies(
            p -> {
              assertThat(p.name()).isEqualTo("render");
              assertThat(p.endedAt()).isNotNull();
            });
    assertThat(service.runs()).hasSize(1);
    assertThat(service.cancels()).isEmpty();
    assertThat(reports.openCount()).isZero();
  }

  @Test
  void aRunTheServiceRefusesWithA4xxEndsTheJobDeadWithTheServicesReason() {
    service.answerRuns(
        new Answer(
            422, "{\"title\":\"Unprocessable\",\"detail\":\"the payload names no report\"}"));
    startWorker(Map.of());
    WorkMessage work = dispatch(TYPE, "{}");

    List<Received> events = awaitEvents(work.jobId(), this::hasOutcome);
    assertThat(events.getLast().event())
        .isInstanceOfSatisfying(
            StatusEvent.Failed.class,
            f -> {
              assertThat(f.retryable()).isFalse();
              assertThat(f.error()).endsWith("answered 422: the payload names no report");
            });
    applyAsTheTrackerDoes(events);
    var job = store.queries().find(work.jobId()).orElseThrow();
    assertThat(job.state()).isEqualTo(JobState.DEAD);
    assertThat(job.lastError()).contains("the payload names no report");
    assertThat(service.runs()).as("a refusal is not retried").hasSize(1);
  }

  @Test
  void aRunAnswered503IsRetriedWithTheSameIdempotencyKeyAndRunsOneTask() {
    service.answerRuns(new Answer(503, "busy"));
    startWorker(Map.of());
    WorkMessage work = dispatch(TYPE, "{}");

    List<Request> runs = service.awaitRuns(2);
    assertThat(runs)
        .extracting(r -> r.header("Idempotency-Key"))
        .hasSize(2)
        .containsOnly(runs.getFirst().header("Idempotency-Key"));
    assertThat(runs.get(0).body()).isEqualTo(runs.get(1).body());
    callBack(
        runs.get(1), e -> new StatusEvent.Succeeded(e.jobId, TYPE, 1, e.token, 1, "svc", e.at));

    List<Received> events = awaitEvents(work.jobId(), this::hasOutcome);
    assertThat(events).extracting(r -> r.event().eventName()).containsExactly("SUCCEEDED");
    assertThat(service.runs()).hasSize(2);
  }

  @Test
  void aRetryableFailureReportedByTheServiceRunsASecondAttemptWithANewClaim() {
    startWorker(Map.of());
    WorkMessage work = dispatch(TYPE, "{}");
    Request first = service.awaitRuns(1).getFirst();
    callBack(
        first,
        e ->
            new StatusEvent.Failed(
                e.jobId, TYPE, 1, e.token, 1, "svc", e.at, "renderer out of memory", true));
    List<Received> firstEvents = awaitEvents(work.jobId(), this::hasOutcome);
    assertThat(firstEvents.getLast().event())
        .isInstanceOfSatisfying(
            StatusEvent.Failed.class,
            f -> {
              assertThat(f.retryable()).isTrue();
              assertThat(f.error()).isEqualTo("renderer out of memory");
            });
    applyAsTheTrackerDoes(firstEvents); // RETRY_WAIT, due at once
    assertThat(store.queries().find(work.jobId()).orElseThrow().state())
        .isEqualTo(JobState.RETRY_WAIT);

    await().atMost(WAIT).ignoreExceptions().until(() -> publishDue(work.jobId()) != null);
    Request second = service.awaitRuns(2).get(1);
    assertThat(second.json().get("attempt").asInt()).isEqualTo(2);
    assertThat(second.json().get("fencingToken").asLong())
        .isGreaterThan(first.json().get("fencingToken").asLong());
    assertThat(second.header("Idempotency-Key")).isNotEqualTo(first.header("Idempotency-Key"));
    callBack(second, e -> new StatusEvent.Succeeded(e.jobId, TYPE, 2, e.token, 1, "svc", e.at));

    awaitEvents(
        work.jobId(), es -> es.stream().anyMatch(r -> r.event() instanceof StatusEvent.Succeeded));
    applyAsTheTrackerDoes(
        eventsOf(work.jobId()).stream().filter(r -> r.event().attempt() == 2).toList());
    assertThat(store.queries().find(work.jobId()).orElseThrow().state())
        .isEqualTo(JobState.SUCCEEDED);
  }

  @Test
  void aCallbackForwardedTwiceOrLateIsTakenOnce() {
    startWorker(Map.of());
    WorkMessage work = dispatch(TYPE, "{}");
    Request run = service.awaitRuns(1).getFirst();

    callBack(
        run, e -> new StatusEvent.Progress(e.jobId, TYPE, 1, e.token, 2, "svc", e.at, 20, "b"));
    callBack(
        run, e -> new StatusEvent.Progress(e.jobId, TYPE, 1, e.token, 2, "svc", e.at, 20, "b"));
    callBack(
        run, e -> new StatusEvent.Progress(e.jobId, TYPE, 1, e.token, 1, "svc", e.at, 10, "a"));
    callBack(run, e -> new StatusEvent.Succeeded(e.jobId, TYPE, 1, e.token, 3, "svc", e.at));

    List<Received> events = awaitEvents(work.jobId(), this::hasOutcome);
    assertThat(events)
        .extracting(r -> r.event().eventName())
        .containsExactly("PROGRESS", "SUCCEEDED");
    assertThat(events.getFirst().event())
        .isInstanceOfSatisfying(
            StatusEvent.Progress.class, p -> assertThat(p.message()).isEqualTo("b"));
  }

  @Test
  void cancellingTheJobDeletesTheServicesTaskAndReportsNothing() {
    startWorker(Map.of());
    WorkMessage work = dispatch(TYPE, "{}");
    Request run = service.awaitRuns(1).getFirst();
    String taskToken = run.header("Idempotency-Key");

    CancelResult cancel = store.cancels().cancel(work.jobId(), "alice", "wrong report");
    assertThat(cancel.wasRunning()).isTrue();
    publishOrder(
        cancel.workerId(),
        new WorkerControl(
            WorkerControl.Kind.CANCEL,
            work.jobId(),
            cancel.fencingToken(),
            "alice",
            "wrong report"));

    Request delete =
        await().atMost(WAIT).until(() -> service.cancels(), c -> !c.isEmpty()).getFirst();
    assertThat(delete.path()).isEqualTo("/tasks/" + taskToken);
    await().atMost(WAIT).until(() -> reports.openCount() == 0); // the handler ended
    // the slot is free: a job after it runs, and once its outcome is here the first's would be
    WorkMessage next = dispatch(TYPE, "{}");
    Request nextRun = service.awaitRuns(2).get(1);
    callBack(nextRun, e -> new StatusEvent.Succeeded(e.jobId, TYPE, 1, e.token, 1, "svc", e.at));
    awaitEvents(next.jobId(), this::hasOutcome);
    assertThat(eventsOf(work.jobId())).isEmpty();
    assertThat(store.queries().find(work.jobId()).orElseThrow().state())
        .isEqualTo(JobState.CANCELLED);
  }

  @Test
  void aJobWithAStartToCloseTimeoutSendsItsAttemptsDeadlineWithTheRun() {
    startWorker(Map.of());
    Instant before = Instant.now();
    dispatch(TYPE, 3, new JobTimeouts(Duration.ofMinutes(10), null));

    JsonNode body = service.awaitRuns(1).getFirst().json();

    assertThat(Instant.parse(body.get("deadline").asString()))
        .as("the claim plus the job's startToClose")
        .isBetween(before.plus(Duration.ofMinutes(10)), Instant.now().plus(Duration.ofMinutes(10)));
  }

  @Test
  void noOutcomeWithinTimeToRunDeletesTheTaskAndFailsTheAttemptAsTimeoutTimeToRun() {
    startWorker(Map.of("timeToRun", "PT1S"));
    long dispatchedAt = System.nanoTime();
    WorkMessage work = dispatch(TYPE, "{}");
    Request run = service.awaitRuns(1).getFirst();
    // the task starts, and then says nothing more
    callBack(
        run,
        e -> new StatusEvent.PhaseStarted(e.jobId, TYPE, 1, e.token, 1, "svc", e.at, "render"));

    List<Received> events = awaitEvents(work.jobId(), this::hasOutcome);
    assertThat(Duration.ofNanos(System.nanoTime() - dispatchedAt))
        .isGreaterThanOrEqualTo(Duration.ofSeconds(1));
    assertThat(events)
        .extracting(r -> r.event().eventName())
        .containsExactly("PHASE_STARTED", "PHASE_ENDED", "FAILED");
    assertThat(events.getLast().event())
        .isInstanceOfSatisfying(
            StatusEvent.Failed.class,
            f -> {
              assertThat(f.error()).isEqualTo("timeout:timeToRun");
              assertThat(f.retryable()).isTrue();
            });
    assertThat(service.cancels())
        .singleElement()
        .satisfies(d -> assertThat(d.path()).isEqualTo("/tasks/" + run.header("Idempotency-Key")));
    applyAsTheTrackerDoes(events);
    var job = store.queries().find(work.jobId()).orElseThrow();
    assertThat(job.state()).isEqualTo(JobState.RETRY_WAIT);
    assertThat(job.lastError()).isEqualTo("timeout:timeToRun");
  }

  @Test
  void aTaskThatNeverReportsWithinTimeToStartIsDeletedAndTheAttemptFailsAsTimeoutTimeToStart() {
    startWorker(Map.of("timeToStart", "PT1S", "timeToRun", "PT1H"));
    WorkMessage work = dispatch(TYPE, "{}");
    Request run = service.awaitRuns(1).getFirst();

    List<Received> events = awaitEvents(work.jobId(), this::hasOutcome);
    assertThat(events)
        .singleElement()
        .extracting(Received::event)
        .isInstanceOfSatisfying(
            StatusEvent.Failed.class,
            f -> {
              assertThat(f.error()).isEqualTo("timeout:timeToStart");
              assertThat(f.retryable()).isTrue();
            });
    assertThat(service.cancels())
        .singleElement()
        .satisfies(d -> assertThat(d.path()).isEqualTo("/tasks/" + run.header("Idempotency-Key")));
  }

  @Test
  void anAbandonedAttemptIsInterruptedAndStillDeletesItsTaskAndLaterReportsAreIgnored() {
    startWorker(Map.of());
    WorkMessage work = dispatch(TYPE, "{}");
    Request run = service.awaitRuns(1).getFirst();
    long token = run.json().get("fencingToken").asLong();

    publishOrder(
        WORKER,
        new WorkerControl(
            WorkerControl.Kind.ABANDON, work.jobId(), token, "timeout:stall", "quiet too long"));

    // interrupted at once: the cancel's call must still go out, not fail on the interrupt
    Request delete =
        await().atMost(WAIT).until(() -> service.cancels(), c -> !c.isEmpty()).getFirst();
    assertThat(delete.path()).isEqualTo("/tasks/" + run.header("Idempotency-Key"));
    await().atMost(WAIT).until(() -> reports.openCount() == 0);
    // the task's late outcome reaches a worker that no longer runs the attempt: acked, ignored
    callBack(run, e -> new StatusEvent.Succeeded(e.jobId, TYPE, 1, e.token, 1, "svc", e.at));
    WorkMessage next = dispatch(TYPE, "{}");
    Request nextRun = service.awaitRuns(2).get(1);
    callBack(nextRun, e -> new StatusEvent.Succeeded(e.jobId, TYPE, 1, e.token, 1, "svc", e.at));
    awaitEvents(next.jobId(), this::hasOutcome);
    assertThat(eventsOf(work.jobId())).isEmpty();
  }

  // ---- the worker, and the scheduler's part ----------------------------------------------------

  /** A worker whose only handler runs {@link #TYPE} on the service, with these settings too. */
  private void startWorker(Map<String, String> settings) {
    var all = new HashMap<>(settings);
    all.put("endpoint", service.endpoint());
    var calls =
        new DistributorCalls(
            3,
            Duration.ofMillis(50),
            Duration.ofMillis(200),
            DistributorCalls.DEFAULT_VISIBILITY_GRACE,
            DistributorCalls.Sleeper.THREAD,
            Clock.systemUTC());
    var handler =
        new DistributedHandler(
            TYPE,
            distributor,
            new DistributorConfig(HttpDistributor.NAME, all),
            calls,
            reports,
            Clock.systemUTC());
    var runtime =
        new WorkerRuntime(
            new WorkerSettings(WORKER, "default", 1, Duration.ofSeconds(30)),
            store.leases(),
            store.deadJobs(),
            topology,
            publisher,
            rabbit,
            List.of(handler),
            reports,
            registry(),
            Clock.systemUTC(),
            meters);
    runtimes.add(runtime);
    runtime.start();
    // orders published before the worker's control queue exists are dropped by the broker
    await()
        .atMost(WAIT)
        .ignoreExceptions()
        .until(() -> consumers(topology.workerControlQueue(WORKER)) == 1);
  }

  /** What the attempt's callback carries: its job, claim and the time. */
  private record Echo(String jobId, long token, Instant at) {}

  /**
   * What the service does, then the scheduler: the service signs one event with the secret it was
   * given and POSTs it; the scheduler checks it against the attempt it holds (here: the run's body)
   * and forwards what it accepted to the worker that holds the attempt (the job's record says
   * which) as a NOTIFY order.
   */
  private void callBack(Request run, Function<Echo, StatusEvent> event) {
    JsonNode body = run.json();
    String jobId = body.get("jobId").asString();
    int attempt = body.get("attempt").asInt();
    long token = body.get("fencingToken").asLong();
    String json =
        Json.mapper()
            .writerFor(StatusEvent.class)
            .writeValueAsString(event.apply(new Echo(jobId, token, Instant.now())));
    String path = URI.create(body.get("callbackUrl").asString()).getPath();
    String timestamp = Long.toString(Instant.now().getEpochSecond());
    String signature =
        CallbackSignatures.sign(
            body.get("callbackSecret").asString(), "POST", path, timestamp, json);
    var request =
        new AttemptRequest(
            jobId,
            TYPE,
            attempt,
            token,
            body.get("payload"),
            new DistributorConfig(HttpDistributor.NAME, Map.of("endpoint", service.endpoint())),
            null);
    assertThat(path).isEqualTo(HttpAttemptRequest.callbackPath(jobId, attempt));
    List<StatusEvent> accepted =
        distributor.handleNotification(
            request,
            new TaskToken(run.header("Idempotency-Key")),
            new Notification(
                Map.of(
                    HttpDistributor.METHOD, "POST",
                    HttpDistributor.PATH, path,
                    CallbackSignatures.TIMESTAMP_HEADER, timestamp,
                    CallbackSignatures.SIGNATURE_HEADER, signature),
                json));
    String workerId = store.queries().find(jobId).orElseThrow().workerId();
    publishOrder(workerId, WorkerControl.notify(jobId, token, accepted));
  }

  private void publishOrder(String workerId, WorkerControl order) {
    publisher.publish(
        new OutgoingMessage(
            topology.controlExchange(),
            topology.workerControlRoutingKey(workerId),
            "order",
            Json.mapper().writeValueAsBytes(order),
            Map.of()));
  }

  /** The status-tracker's part: applies the worker's events to the job, retries due at once. */
  private void applyAsTheTrackerDoes(List<Received> events) {
    events.forEach(r -> store.reports().report(r.event(), Duration.ZERO));
  }

  // ---- the service --------------------------------------------------------------------------

  /** What the service answers one request with. */
  private record Answer(int status, String body) {}

  /** One request the service received. */
  private record Request(
      String method, String path, Map<String, List<String>> headers, String body) {
    String header(String name) {
      return headers.entrySet().stream()
          .filter(h -> h.getKey().equalsIgnoreCase(name))
          .map(h -> h.getValue().getFirst())
          .findFirst()
          .orElse(null);
    }

    JsonNode json() {
      return Json.mapper().readTree(body);
    }
  }

  /**
   * An HTTP service that runs tasks: a POST to {@code /tasks} starts one (202 unless told to answer
   * otherwise), a DELETE of {@code /tasks/<token>} cancels it (204). It records every request.
   */
  private static final class TaskService implements AutoCloseable {

    private final HttpServer server;
    private final List<Request> requests = new CopyOnWriteArrayList<>();
    private final Queue<Answer> runAnswers = new ConcurrentLinkedQueue<>();

    TaskService() throws IOException {
      server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
      server.createContext("/tasks", this::handle);
      server.start();
    }

    String endpoint() {
      return "http://127.0.0.1:" + server.getAddress().getPort() + "/tasks";
    }

    /** The next runs are answered with these, in order; the ones after them with 202. */
    void answerRuns(Answer... answers) {
      runAnswers.addAll(List.of(answers));
    }

    List<Request> runs() {
      return requests.stream().filter(r -> r.method().equals("POST")).toList();
    }

    List<Request> cancels() {
      return requests.stream().filter(r -> r.method().equals("DELETE")).toList();
    }

    List<Request> awaitRuns(int count) {
      return await().atMost(WAIT).until(this::runs, runs -> runs.size() >= count);
    }

    private void handle(HttpExchange exchange) throws IOException {
      try (exchange) {
        String body = new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
        requests.add(
            new Request(
                exchange.getRequestMethod(),
                exchange.getRequestURI().getRawPath(),
                Map.copyOf(exchange.getRequestHeaders()),
                body));
        Answer answer =
            switch (exchange.getRequestMethod()) {
              case "POST" -> {
                Answer next = runAnswers.poll();
                yield next == null ? new Answer(202, "") : next;
              }
              case "DELETE" -> new Answer(204, "");
              default -> new Answer(405, "");
            };
        byte[] bytes = answer.body().getBytes(StandardCharsets.UTF_8);
        if (answer.body().startsWith("{")) {
          exchange.getResponseHeaders().set("Content-Type", "application/problem+json");
        }
        exchange.sendResponseHeaders(answer.status(), bytes.length == 0 ? -1 : bytes.length);
        if (bytes.length > 0) {
          exchange.getResponseBody().write(bytes);
        }
      }
    }

    @Override
    public void close() {
      server.stop(0);
    }
  }
}
