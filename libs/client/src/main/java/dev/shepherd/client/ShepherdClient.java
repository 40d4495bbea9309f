package dev.shepherd.client;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Address;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import dev.shepherd.model.CancelRequest;
import dev.shepherd.model.DeadJob;
import dev.shepherd.model.JobState;
import dev.shepherd.model.JobSubmission;
import dev.shepherd.model.JobSummary;
import dev.shepherd.model.JobView;
import dev.shepherd.model.Json;
import dev.shepherd.model.OrderingKeyView;
import dev.shepherd.model.SubmissionMessages;
import dev.shepherd.model.SubmitReceipt;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import tools.jackson.databind.JsonNode;

/**
 * Submits jobs to Shepherd and follows them. HTTP talks to the scheduler's REST API; AMQP publishes
 * submissions to the submit exchange with publisher confirms. Thread-safe; share one.
 *
 * <pre>{@code
 * try (ShepherdClient client = ShepherdClient.builder()
 *     .httpBaseUri(URI.create("http://localhost:8081"))
 *     .amqpUri(URI.create("amqp://guest:guest@localhost:5672"))
 *     .build()) {
 *   SubmitReceipt receipt = client.submit(JobSubmission.of("site.generate", payload));
 *   JobView done = client.await(receipt.jobId(), Duration.ofMinutes(5)).join();
 *   String key = client.submitViaAmqp(JobSubmission.of("demo.noop", payload));
 *   String id = client.jobIdForKey(key, Duration.ofSeconds(30)).join();
 * }
 * }</pre>
 */
public final class ShepherdClient implements AutoCloseable {

  /** The header an API key travels in (ADR 40). */
  public static final String API_KEY_HEADER = "X-Api-Key";

  private static final Duration FIRST_POLL = Duration.ofMillis(20);
  private static final Duration MAX_POLL = Duration.ofMillis(500);

  private final URI base;
  private final URI amqpUri;
  private final List<Address> amqpAddresses;
  private final String prefix;
  private final Duration requestTimeout;
  private final String apiKey;
  private final String bearerToken;
  private final HttpClient http;
  private final ScheduledExecutorService timer;
  private final java.util.concurrent.ExecutorService io =
      Executors.newVirtualThreadPerTaskExecutor();
  private Connection amqp;
  private String amqpUser;
  private Channel channel;

  /** Submissions waiting for the sender thread ({@link #submitViaAmqpAsync}). */
  private final java.util.concurrent.LinkedBlockingQueue<PendingSubmission> toSend =
      new java.util.concurrent.LinkedBlockingQueue<>();

  private Thread sender; // guarded by this
  private boolean closed; // guarded by this

  /**
   * Message ids the broker handed back as unroutable. The broker sends basic.return before the
   * basic.ack of the same publish, and the connection thread runs the listener before it records
   * the ack, so once the confirm is in, a returned submission is in this set.
   */
  private final java.util.Set<String> returned = java.util.concurrent.ConcurrentHashMap.newKeySet();

  private ShepherdClient(Builder b) {
    this.base = b.httpBaseUri;
    this.amqpUri = b.amqpUri;
    this.amqpAddresses = b.amqpAddresses;
    this.prefix = b.prefix;
    this.requestTimeout = b.requestTimeout;
    this.apiKey = b.apiKey;
    this.bearerToken = b.bearerToken;
    this.http = HttpClient.newBuilder().connectTimeout(b.requestTimeout).build();
    this.timer =
        Executors.newSingleThreadScheduledExecutor(
            r -> Thread.ofPlatform().name("shepherd-client-await").daemon().unstarted(r));
  }

  public static Builder builder() {
    return new Builder();
  }

  /** Submits over HTTP; a repeated idempotency key returns the first job (duplicate = true). */
  public SubmitReceipt submit(JobSubmission submission) {
    HttpResponse<String> response =
        send(
            request("/api/v1/jobs")
                .header("Content-Type", "application/json")
                .POST(
                    HttpRequest.BodyPublishers.ofByteArray(
                        Json.mapper().writeValueAsBytes(submission)))
                .build());
    if (response.statusCode() != 200 && response.statusCode() != 202) {
      throw problem(response);
    }
    return Json.mapper().readValue(response.body(), SubmitReceipt.class);
  }

  /**
   * Publishes the submission to the submit exchange ({@code mandatory}) and waits for the broker's
   * confirm. The job is created asynchronously; find it with {@link #jobIdForKey}. A call that
   * returns has handed the submission to a queue; one the broker could not route (no submit queue
   * bound) or did not confirm throws, and may be repeated with the returned key's submission.
   *
   * <p>Calls from several threads share messages: what is waiting while the previous message waits
   * for its confirm goes out as one message (ADR 59, {@link SubmissionMessages}).
   *
   * @return the idempotency key: the submission's own, or a new UUID when it had none
   * @throws ShepherdClientException when the broker returned the message as unroutable, nacked it,
   *     did not confirm it within the request timeout, or could not be reached
   */
  public String submitViaAmqp(JobSubmission submission) {
    try {
      return submitViaAmqpAsync(submission).join();
    } catch (java.util.concurrent.CompletionException e) {
      if (e.getCause() instanceof RuntimeException cause) {
        throw cause;
      }
      throw e;
    }
  }

  /**
   * As {@link #submitViaAmqp}, without waiting: the future completes with the idempotency key once
   * the broker confirmed the message that carried the submission, or exceptionally with a {@link
   * ShepherdClientException}. One sender thread publishes the submissions in the order they were
   * given, each alone when it finds nothing else waiting, or with those that queued up behind it
   * while the previous message waited for its confirm, up to {@link
   * SubmissionMessages#MAX_SUBMISSIONS} in one message (ADR 59). Nothing waits for company, so
   * sharing costs a lone submission no time.
   */
  public CompletableFuture<String> submitViaAmqpAsync(JobSubmission submission) {
    if (amqpUri == null) {
      throw new IllegalStateException("no AMQP URI configured: use builder().amqpUri(...)");
    }
    JobSubmission keyed =
        submission.idempotencyKey() == null
            ? submission.withIdempotencyKey(UUID.randomUUID().toString())
            : submission;
    var pending = new PendingSubmission(keyed, new CompletableFuture<>());
    synchronized (this) {
      if (closed) {
        throw new IllegalStateException("this client is closed");
      }
      if (sender == null) {
        sender =
            Thread.ofPlatform()
                .name("shepherd-client-submit")
                .daemon()
                .start(this::sendSubmissions);
      }
      toSend.add(pending);
    }
    return pending.accepted();
  }

  /** A submission waiting for its message, and its caller's future. */
  private record PendingSubmission(JobSubmission submission, CompletableFuture<String> accepted) {}

  /**
   * The sender thread's loop: what is waiting, in one message, until the client closes. Should the
   * loop itself end for any other reason, the thread leaves its place empty under the lock, so the
   * next submission starts a new sender, and fails what it had taken or found waiting.
   */
  private void sendSubmissions() {
    List<PendingSubmission> batch = new ArrayList<>();
    Throwable ended = null;
    try {
      while (true) {
        batch.add(toSend.take());
        toSend.drainTo(batch, SubmissionMessages.MAX_SUBMISSIONS - 1);
        send(batch);
        batch.clear();
      }
    } catch (InterruptedException e) {
      // closed
    } catch (Throwable e) {
      ended = e;
    }
    ShepherdClientException failing =
        ended == null
            ? new ShepherdClientException(
                "the client was closed before the submission was sent", null)
            : new ShepherdClientException("the submission sender stopped: " + ended, ended);
    List<PendingSubmission> left = new ArrayList<>(batch);
    synchronized (this) {
      if (sender == Thread.currentThread()) {
        sender = null;
      }
      toSend.drainTo(left);
    }
    left.forEach(p -> p.accepted().completeExceptionally(failing));
  }

  private void send(List<PendingSubmission> batch) {
    List<JobSubmission> submissions = batch.stream().map(PendingSubmission::submission).toList();
    String first = submissions.getFirst().idempotencyKey();
    try {
      publishConfirmed(
          prefix + ".submit",
          "submit",
          submissions.size() == 1 ? first : UUID.randomUUID().toString(),
          SubmissionMessages.encode(submissions),
          submissions.size() == 1
              ? "AMQP submission " + first
              : "AMQP message of "
                  + submissions.size()
                  + " submissions (keys "
                  + String.join(
                      ", ", submissions.stream().map(JobSubmission::idempotencyKey).toList())
                  + ")");
      batch.forEach(p -> p.accepted().complete(p.submission().idempotencyKey()));
    } catch (RuntimeException e) {
      batch.forEach(p -> p.accepted().completeExceptionally(e));
    } catch (Error e) {
      // out of memory while encoding a large message, say: its callers learn it, and the sender
      // goes on with the next message rather than leaving every later caller waiting
      ShepherdClientException failed =
          new ShepherdClientException("could not send the submission: " + e, e);
      batch.forEach(p -> p.accepted().completeExceptionally(failed));
    }
  }

  /**
   * Cancels a job over HTTP: a waiting job never runs, a running one's handler is told to stop, and
   * the job ends CANCELLED with {@code by} and {@code reason} on it.
   *
   * @param by who cancels (null: "anonymous")
   * @param reason why, kept on the job's history (may be null)
   * @return the job's state before the cancel, or empty when it was already CANCELLED
   * @throws ShepherdClientException 409 when the job already SUCCEEDED or is DEAD, 404 when there
   *     is no such job
   */
  public Optional<JobState> cancel(String jobId, String by, String reason) {
    StringBuilder path =
        new StringBuilder("/api/v1/jobs/").append(encode(jobId)).append("/cancel?");
    if (by != null) {
      path.append("by=").append(encode(by)).append('&');
    }
    if (reason != null) {
      path.append("reason=").append(encode(reason));
    }
    HttpResponse<String> response =
        send(request(path.toString()).POST(HttpRequest.BodyPublishers.noBody()).build());
    if (response.statusCode() != 202) {
      throw problem(response);
    }
    JsonNode body = Json.mapper().readTree(response.body());
    return Optional.ofNullable(body.path("previousState").asString(null)).map(JobState::valueOf);
  }

  /**
   * Makes a job that waits out its backoff after a retryable failure (RETRY_WAIT) due now: the
   * scheduler publishes it at once (its ordering and concurrency keys still decide).
   *
   * @param by who asks (null: "anonymous"), kept on the job
   * @return when its next attempt was due before; empty when it waited for a concurrency slot or
   *     its ordering key's head
   * @throws ShepherdClientException 409 when the job is in another state or its released last
   *     attempt still waits for its outcome, 404 when there is no such job
   */
  public Optional<Instant> retryNow(String jobId, String by) {
    String path =
        "/api/v1/jobs/" + encode(jobId) + "/retry-now" + (by == null ? "" : "?by=" + encode(by));
    HttpResponse<String> response =
        send(request(path).POST(HttpRequest.BodyPublishers.noBody()).build());
    if (response.statusCode() != 202) {
      throw problem(response);
    }
    JsonNode body = Json.mapper().readTree(response.body());
    return Optional.ofNullable(body.path("dueBefore").asString(null)).map(Instant::parse);
  }

  /** Cancels a job over HTTP, anonymously and without a reason. */
  public Optional<JobState> cancel(String jobId) {
    return cancel(jobId, null, null);
  }

  /**
   * Publishes a cancel request to the control exchange (routing key {@code cancel}) and waits for
   * the broker's confirm; the scheduler applies it asynchronously. A request that names no job
   * becomes a dead-job record with the reason.
   *
   * @throws ShepherdClientException when the broker returned it as unroutable, nacked it, did not
   *     confirm it within the request timeout, or could not be reached
   */
  public synchronized void cancelViaAmqp(String jobId, String by, String reason) {
    publishConfirmed(
        prefix + ".control",
        "cancel",
        UUID.randomUUID().toString(),
        Json.mapper().writeValueAsBytes(new CancelRequest(jobId, by, reason)),
        "AMQP cancel request for job " + jobId);
  }

  /** Publishes with {@code mandatory} and waits for the confirm; a returned message throws. */
  private synchronized void publishConfirmed(
      String exchange, String routingKey, String messageId, byte[] body, String what) {
    if (amqpUri == null) {
      throw new IllegalStateException("no AMQP URI configured: use builder().amqpUri(...)");
    }
    try {
      Channel ch = channel();
      var props =
          new AMQP.BasicProperties.Builder()
              .contentType("application/json")
              .deliveryMode(2)
              .messageId(messageId)
              // the broker checks user_id against the connection's user and refuses a publish
              // that names another, so the scheduler can trust it (ADR 40)
              .userId(amqpUser)
              .build();
      returned.remove(messageId);
      ch.basicPublish(exchange, routingKey, true, props, body);
      ch.waitForConfirmsOrDie(requestTimeout.toMillis());
      // A confirm alone does not mean a queue took it: an unroutable message is confirmed too.
      if (returned.remove(messageId)) {
        throw new ShepherdClientException(
            what
                + " was returned by the broker as unroutable: no queue is bound to "
                + exchange
                + " with key '"
                + routingKey
                + "' (is the scheduler's topology declared, and is the prefix '"
                + prefix
                + "' right?)",
            null);
      }
    } catch (IOException | TimeoutException e) {
      closeAmqp();
      throw new ShepherdClientException(what + " was not confirmed: " + e, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new ShepherdClientException("interrupted while waiting for the confirm", e);
    }
  }

  /** The id of the job an idempotency key made, once the scheduler has accepted it. */
  public CompletableFuture<String> jobIdForKey(String idempotencyKey, Duration timeout) {
    return jobIdForKey(idempotencyKey, null, timeout);
  }

  /**
   * The id of the job an idempotency key made with an ordering key (null for none), once the
   * scheduler has accepted it: a keyed job's idempotency key is kept with the ordering key's jobs.
   */
  public CompletableFuture<String> jobIdForKey(
      String idempotencyKey, String orderingKey, Duration timeout) {
    String query = orderingKey == null ? "" : "?orderingKey=" + encode(orderingKey);
    return poll(
        () -> fetch("/api/v1/jobs/by-key/" + encode(idempotencyKey) + query).map(JobView::id),
        timeout,
        "no job with idempotency key " + idempotencyKey);
  }

  public Optional<JobView> get(String jobId) {
    return fetch("/api/v1/jobs/" + encode(jobId));
  }

  /** The newest jobs, optionally of one state and one type (either may be null). */
  public List<JobSummary> list(JobState state, String type, int limit) {
    StringBuilder path = new StringBuilder("/api/v1/jobs?limit=").append(limit);
    if (state != null) {
      path.append("&state=").append(state.name());
    }
    if (type != null) {
      path.append("&type=").append(encode(type));
    }
    return List.of(getJson(path.toString(), JobSummary[].class));
  }

  /** An ordering key's state (UP or DOWN), backlog, head and next retry (ADR 29). */
  public OrderingKeyView orderingKey(String key) {
    return getJson("/api/v1/keys/" + encode(key), OrderingKeyView.class);
  }

  /** The ordering keys that are DOWN, longest down first. */
  public List<OrderingKeyView> downOrderingKeys(int limit) {
    return List.of(getJson("/api/v1/keys?state=DOWN&limit=" + limit, OrderingKeyView[].class));
  }

  /** The registered workers, with their pool, state, capacity and leases. */
  public List<dev.shepherd.model.WorkerView> workers() {
    return List.of(getJson("/api/v1/workers", dev.shepherd.model.WorkerView[].class));
  }

  /**
   * The job types the scheduler accepts, configured or announced by workers (ADR 35), with their
   * pools, payload schemas, defaults and live workers.
   */
  public List<dev.shepherd.model.JobTypeView> types() {
    return List.of(getJson("/api/v1/types", dev.shepherd.model.JobTypeView[].class));
  }

  public List<DeadJob> deadJobs(int limit) {
    return List.of(getJson("/api/v1/dead-jobs?limit=" + limit, DeadJob[].class));
  }

  /**
   * Redrives a dead job: one more attempt (a DEAD head that blocks its ordering key stays first).
   *
   * @param recordId the dead-job record's id (a job's record has the job's id)
   * @param by who redrives (null: "anonymous")
   * @throws ShepherdClientException 404 when there is no such record, 409 when the job is no longer
   *     DEAD or the record names no job
   */
  public void redriveDead(String recordId, String by) {
    String path =
        "/api/v1/dead-jobs/"
            + encode(recordId)
            + "/redrive"
            + (by == null ? "" : "?by=" + encode(by));
    HttpResponse<String> response =
        send(request(path).POST(HttpRequest.BodyPublishers.noBody()).build());
    if (response.statusCode() != 202) {
      throw problem(response);
    }
  }

  /**
   * Discards a dead job's record: the job is not redriven, and a DEAD head that blocks its ordering
   * key lets the key's next job go.
   *
   * @param by who discards (null: "anonymous")
   * @throws ShepherdClientException 404 when there is no such record
   */
  public void discardDead(String recordId, String by) {
    String path = "/api/v1/dead-jobs/" + encode(recordId) + (by == null ? "" : "?by=" + encode(by));
    HttpResponse<String> response = send(request(path).DELETE().build());
    if (response.statusCode() != 204) {
      throw problem(response);
    }
  }

  /**
   * Completes with the job's final view once it is SUCCEEDED, DEAD or CANCELLED; completes
   * exceptionally with {@link TimeoutException} after {@code timeout}. The scheduler pushes the end
   * on a server-sent event stream ({@code GET /api/v1/jobs/{id}/events}): one request per job
   * whatever it takes, a new one each minute, and a new one when a busy scheduler did not answer
   * within the request timeout. Where the stream cannot be had (a scheduler without it, a job not
   * stored yet, a refused connection) the await polls instead, with a backoff from 20 ms to 500 ms
   * on one shared timer thread.
   */
  public CompletableFuture<JobView> await(String jobId, Duration timeout) {
    CompletableFuture<JobView> result = new CompletableFuture<>();
    long deadline = System.nanoTime() + timeout.toNanos();
    var expiry =
        timer.schedule(
            () ->
                result.completeExceptionally(
                    new TimeoutException("job " + jobId + " did not finish within " + timeout)),
            timeout.toNanos(),
            TimeUnit.NANOSECONDS);
    result.whenComplete((view, error) -> expiry.cancel(false));
    listen(jobId, result, deadline, timeout);
    return result;
  }

  /** One stream of the job's events; another when it closes without the end, polling on failure. */
  private void listen(
      String jobId, CompletableFuture<JobView> result, long deadline, Duration timeout) {
    if (result.isDone()) {
      return;
    }
    HttpRequest request =
        request("/api/v1/jobs/" + encode(jobId) + "/events")
            .header("Accept", "text/event-stream")
            .GET()
            .build();
    http.sendAsync(request, HttpResponse.BodyHandlers.ofLines())
        .whenCompleteAsync(
            (response, error) -> {
              if (error != null && late(error)) {
                // a scheduler too busy to connect or answer within the request timeout: another
                // stream, as polls would only add to its load
                listen(jobId, result, deadline, timeout);
                return;
              }
              if (error != null || response.statusCode() != 200) {
                if (response != null) {
                  response.body().close();
                }
                pollUntil(jobId, result, deadline, timeout);
                return;
              }
              StreamEnd end;
              try (var lines = response.body()) {
                result.whenComplete((view, e) -> lines.close()); // a timeout ends the read
                end = readEvents(lines, result);
              } catch (RuntimeException closed) {
                end = result.isDone() ? StreamEnd.DONE : StreamEnd.BROKEN;
              }
              switch (end) {
                case DONE -> {}
                case CLOSED -> listen(jobId, result, deadline, timeout);
                case MISSING, BROKEN -> pollUntil(jobId, result, deadline, timeout);
              }
            },
            io);
  }

  /**
   * The request timed out: the scheduler did not take the connection, or did not answer, within the
   * request timeout. A refused connection is not late: polls go on after it, with their backoff.
   */
  private static boolean late(Throwable error) {
    Throwable cause =
        error instanceof java.util.concurrent.CompletionException && error.getCause() != null
            ? error.getCause()
            : error;
    return cause instanceof java.net.http.HttpTimeoutException;
  }

  private enum StreamEnd {
    DONE,
    CLOSED,
    MISSING,
    BROKEN
  }

  /** Reads server-sent events until the job's end, a {@code missing} event or the stream's end. */
  private static StreamEnd readEvents(
      java.util.stream.Stream<String> lines, CompletableFuture<JobView> result) {
    String event = "message";
    StringBuilder data = new StringBuilder();
    for (var it = lines.iterator(); it.hasNext(); ) {
      String line = it.next();
      if (line.startsWith("event:")) {
        event = line.substring(6).trim();
      } else if (line.startsWith("data:")) {
        data.append(line.substring(5).stripLeading());
      } else if (line.isEmpty() && !data.isEmpty()) {
        if (event.equals("finished")) {
          result.complete(Json.mapper().readValue(data.toString(), JobView.class));
          return StreamEnd.DONE;
        }
        if (event.equals("missing")) {
          return StreamEnd.MISSING;
        }
        event = "message";
        data.setLength(0);
      }
    }
    return result.isDone() ? StreamEnd.DONE : StreamEnd.CLOSED;
  }

  /** Polls for the job's end for the rest of the await: the way without a stream. */
  private void pollUntil(
      String jobId, CompletableFuture<JobView> result, long deadline, Duration timeout) {
    if (result.isDone()) {
      return;
    }
    long left = deadline - System.nanoTime();
    poll(
            () -> get(jobId).filter(job -> job.state().isTerminal()),
            Duration.ofNanos(Math.max(left, 0)),
            "job " + jobId + " did not finish")
        .whenComplete(
            (view, error) -> {
              if (error == null) {
                result.complete(view);
              } else {
                result.completeExceptionally(
                    error instanceof TimeoutException
                        ? new TimeoutException("job " + jobId + " did not finish within " + timeout)
                        : error);
              }
            });
  }

  private <T> CompletableFuture<T> poll(
      java.util.function.Supplier<Optional<T>> probe, Duration timeout, String what) {
    CompletableFuture<T> result = new CompletableFuture<>();
    long deadline = System.nanoTime() + timeout.toNanos();
    schedule(probe, result, deadline, FIRST_POLL, timeout, what);
    return result;
  }

  private <T> void schedule(
      java.util.function.Supplier<Optional<T>> probe,
      CompletableFuture<T> result,
      long deadline,
      Duration delay,
      Duration timeout,
      String what) {
    timer.schedule(
        () ->
            CompletableFuture.supplyAsync(probe, io)
                .whenComplete(
                    (found, error) -> {
                      if (error == null && found.isPresent()) {
                        result.complete(found.get());
                      } else if (System.nanoTime() > deadline) {
                        result.completeExceptionally(
                            new TimeoutException(what + " within " + timeout));
                      } else {
                        Duration next = delay.multipliedBy(2);
                        schedule(
                            probe,
                            result,
                            deadline,
                            next.compareTo(MAX_POLL) > 0 ? MAX_POLL : next,
                            timeout,
                            what);
                      }
                    }),
        delay.toMillis(),
        TimeUnit.MILLISECONDS);
  }

  private Optional<JobView> fetch(String path) {
    HttpResponse<String> response = send(request(path).GET().build());
    if (response.statusCode() == 404) {
      return Optional.empty();
    }
    if (response.statusCode() != 200) {
      throw problem(response);
    }
    return Optional.of(Json.mapper().readValue(response.body(), JobView.class));
  }

  private <T> T getJson(String path, Class<T> type) {
    HttpResponse<String> response = send(request(path).GET().build());
    if (response.statusCode() != 200) {
      throw problem(response);
    }
    return Json.mapper().readValue(response.body(), type);
  }

  private HttpRequest.Builder request(String path) {
    if (base == null) {
      throw new IllegalStateException(
          "no HTTP base URI configured: use builder().httpBaseUri(...)");
    }
    HttpRequest.Builder request =
        HttpRequest.newBuilder(base.resolve(path)).timeout(requestTimeout);
    if (apiKey != null) {
      request.header(API_KEY_HEADER, apiKey);
    }
    if (bearerToken != null) {
      request.header("Authorization", "Bearer " + bearerToken);
    }
    return request;
  }

  private HttpResponse<String> send(HttpRequest request) {
    try {
      return http.send(request, HttpResponse.BodyHandlers.ofString());
    } catch (IOException e) {
      throw new ShepherdClientException("cannot reach " + request.uri() + ": " + e, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new ShepherdClientException("interrupted calling " + request.uri(), e);
    }
  }

  static ShepherdClientException problem(HttpResponse<String> response) {
    String title = "HTTP " + response.statusCode();
    String detail = response.body();
    List<ShepherdClientException.FieldError> errors = new ArrayList<>();
    try {
      JsonNode body = Json.mapper().readTree(response.body());
      title = body.path("title").asString(title);
      detail = body.path("detail").asString(null);
      for (JsonNode e : body.path("errors")) {
        errors.add(
            new ShepherdClientException.FieldError(
                e.path("field").asString(""), e.path("message").asString("")));
      }
    } catch (RuntimeException notJson) {
      // not problem+json: keep the raw body as the detail
    }
    return new ShepherdClientException(response.statusCode(), title, detail, errors);
  }

  private Channel channel() throws IOException, TimeoutException {
    if (channel == null || !channel.isOpen()) {
      if (amqp == null || !amqp.isOpen()) {
        var factory = new ConnectionFactory();
        try {
          factory.setUri(amqpUri);
        } catch (Exception e) {
          throw new IllegalArgumentException("bad AMQP URI " + amqpUri, e);
        }
        // a cluster's nodes, tried in order (the first that answers), or the URI's host alone
        amqp =
            amqpAddresses == null
                ? factory.newConnection("shepherd-client")
                : factory.newConnection(amqpAddresses, "shepherd-client");
        amqpUser = factory.getUsername();
      }
      channel = amqp.createChannel();
      channel.addReturnListener(r -> returned.add(r.getProperties().getMessageId()));
      channel.confirmSelect();
    }
    return channel;
  }

  private synchronized void closeAmqp() {
    try {
      if (amqp != null) {
        amqp.close();
      }
    } catch (IOException | RuntimeException e) {
      // closing a broken connection: nothing left to do
    }
    amqp = null;
    channel = null;
  }

  private static String encode(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
  }

  @Override
  public void close() {
    Thread stopping;
    synchronized (this) {
      closed = true;
      stopping = sender;
    }
    if (stopping != null) {
      stopping.interrupt();
      try {
        stopping.join(requestTimeout.toMillis());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    timer.shutdownNow();
    io.shutdownNow();
    closeAmqp();
  }

  /** Configures a client; only the HTTP base URI is needed for everything but AMQP submission. */
  public static final class Builder {
    private URI httpBaseUri;
    private URI amqpUri;
    private List<Address> amqpAddresses;
    private String prefix = "shepherd";
    private Duration requestTimeout = Duration.ofSeconds(10);
    private String apiKey;
    private String bearerToken;

    private Builder() {}

    /** The API key every HTTP call carries ({@code X-Api-Key}); null for none. */
    public Builder apiKey(String apiKey) {
      this.apiKey = apiKey == null || apiKey.isBlank() ? null : apiKey.trim();
      return this;
    }

    /** A bearer token of the scheduler's issuer every HTTP call carries; null for none. */
    public Builder bearerToken(String token) {
      this.bearerToken = token == null || token.isBlank() ? null : token.trim();
      return this;
    }

    /** The scheduler, e.g. {@code http://localhost:8081}. */
    public Builder httpBaseUri(URI uri) {
      this.httpBaseUri = uri;
      return this;
    }

    /** The broker, e.g. {@code amqp://guest:guest@localhost:5672}. */
    public Builder amqpUri(URI uri) {
      this.amqpUri = uri;
      return this;
    }

    /**
     * The nodes of a RabbitMQ cluster, {@code host:port,host:port,...} (as {@code
     * spring.rabbitmq.addresses}): the client connects to the first that answers, in this order,
     * and to the next when its node goes down, with the user, password, virtual host and TLS of
     * {@link #amqpUri}, whose own host and port it then does not use. Null or blank for the URI's
     * host alone.
     *
     * <pre>{@code
     * ShepherdClient.builder()
     *     .amqpUri(URI.create("amqp://producer:secret@rabbit-0:5672/"))
     *     .amqpAddresses("rabbit-0:5672,rabbit-1:5672,rabbit-2:5672")
     *     .build();
     * }</pre>
     */
    public Builder amqpAddresses(String addresses) {
      this.amqpAddresses =
          addresses == null || addresses.isBlank()
              ? null
              : List.of(Address.parseAddresses(addresses.replace(" ", "")));
      return this;
    }

    /** The installation's name prefix ({@code shepherd.messaging.prefix}). */
    public Builder prefix(String prefix) {
      this.prefix = prefix;
      return this;
    }

    public Builder requestTimeout(Duration timeout) {
      this.requestTimeout = timeout;
      return this;
    }

    public ShepherdClient build() {
      if (httpBaseUri == null && amqpUri == null) {
        throw new IllegalStateException("set httpBaseUri, amqpUri or both");
      }
      if (amqpAddresses != null && amqpUri == null) {
        throw new IllegalStateException(
            "amqpAddresses needs amqpUri too: the URI gives the user, password and virtual host");
      }
      return new ShepherdClient(this);
    }
  }
}
