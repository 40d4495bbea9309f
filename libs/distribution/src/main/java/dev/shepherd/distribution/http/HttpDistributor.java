package dev.shepherd.distribution.http;

import dev.shepherd.distribution.AttemptRequest;
import dev.shepherd.distribution.Distributor;
import dev.shepherd.distribution.DistributorConfig;
import dev.shepherd.distribution.InvalidDistributorConfigException;
import dev.shepherd.distribution.Notification;
import dev.shepherd.distribution.PermanentDistributorException;
import dev.shepherd.distribution.Started;
import dev.shepherd.distribution.TaskStatus;
import dev.shepherd.distribution.TaskToken;
import dev.shepherd.distribution.TransientDistributorException;
import dev.shepherd.distribution.http.CallbackSignatures.AttemptKey;
import dev.shepherd.model.Json;
import dev.shepherd.model.StatusEvent;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;

/**
 * Runs an attempt by POSTing it to a service ({@link HttpAttemptRequest}); the service answers 202
 * and reports later through signed callbacks ({@link CallbackSignatures}).
 *
 * <p>Settings: {@code endpoint} (required, an absolute http or https URL), {@code requestTimeout}
 * (ISO-8601, default {@value #DEFAULT_REQUEST_TIMEOUT}), {@code timeToStart}, {@code timeToRun},
 * {@code timeToStop} (ISO-8601, optional: the limits each attempt asks for), {@code statusUrl}
 * (optional, with {@code {jobId}}, {@code {attempt}} and {@code {task}} replaced: where the task's
 * status is polled when callbacks stop, see {@link #status}) and {@code infoUrl} (optional, with
 * {@code {jobId}} and {@code {attempt}} replaced: where a person sees the task).
 *
 * <p>Answers: 2xx starts the task; 5xx, 408, 429, a timeout or a connection failure are transient;
 * any other 4xx is permanent, with the body's {@code detail} (problem+json) or text as the reason.
 * The POST carries {@code Idempotency-Key: <jobId>.<attempt>.<fencingToken>}, which is also the
 * task's token: a retried run names the same task and the service must not start a second one.
 */
public final class HttpDistributor implements Distributor {

  public static final String NAME = "http";

  /** {@link Notification} attributes a callback endpoint passes besides the signature headers. */
  public static final String METHOD = "method";

  public static final String PATH = "path";

  /** The setting naming where a task's status is polled. */
  static final String STATUS_URL = "statusUrl";

  static final String DEFAULT_REQUEST_TIMEOUT = "PT10S";

  private static final Set<String> SETTINGS =
      Set.of(
          "endpoint",
          "requestTimeout",
          "timeToStart",
          "timeToRun",
          "timeToStop",
          "infoUrl",
          "statusUrl");
  private static final int MAX_REASON = 500;

  private final HttpClient client;
  private final CallbackSignatures signatures;
  private final HttpCallbacks callbacks;
  private final URI callbackBase;

  public HttpDistributor(HttpClient client, CallbackSignatures signatures, URI callbackBase) {
    this.client = client;
    this.signatures = signatures;
    this.callbacks = new HttpCallbacks(signatures);
    this.callbackBase = callbackBase;
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public void validate(String type, DistributorConfig config) {
    var problems = new ArrayList<InvalidDistributorConfigException.Problem>();
    String endpoint = config.setting("endpoint");
    if (endpoint == null) {
      problems.add(problem(type, "endpoint", "is required (the URL attempts are POSTed to)"));
    } else if (!DistributorConfig.isHttpUrl(endpoint)) {
      problems.add(
          problem(
              type, "endpoint", "must be an absolute http or https URL, was '" + endpoint + "'"));
    }
    for (String name : List.of("requestTimeout", "timeToStart", "timeToRun", "timeToStop")) {
      String value = config.setting(name);
      if (value != null && parsePositive(value) == null) {
        problems.add(
            problem(
                type, name, "must be a positive ISO-8601 duration (PT30S), was '" + value + "'"));
      }
    }
    String statusUrl = config.setting(STATUS_URL);
    if (statusUrl != null && !DistributorConfig.isHttpUrl(fill(statusUrl, "j", 1, "t"))) {
      problems.add(
          problem(
              type, STATUS_URL, "must be an absolute http or https URL, was '" + statusUrl + "'"));
    }
    String info = config.setting("infoUrl");
    if (info != null
        && !DistributorConfig.isHttpUrl(info.replace("{jobId}", "j").replace("{attempt}", "1"))) {
      problems.add(
          problem(type, "infoUrl", "must be an absolute http or https URL, was '" + info + "'"));
    }
    config.settings().keySet().stream()
        .filter(name -> !SETTINGS.contains(name))
        .forEach(
            name ->
                problems.add(
                    problem(
                        type,
                        name,
                        "is not an http distributor setting "
                            + SETTINGS.stream().sorted().toList())));
    if (!problems.isEmpty()) {
      throw new InvalidDistributorConfigException(problems);
    }
  }

  @Override
  public Started run(AttemptRequest attempt) {
    attempt.requireClaimed(NAME);
    DistributorConfig config = attempt.config();
    TaskToken token = tokenOf(attempt);
    String secret = signatures.secret(keyOf(attempt));
    HttpRequest request =
        HttpRequest.newBuilder(URI.create(config.setting("endpoint")))
            .timeout(requestTimeout(config))
            .header("Content-Type", "application/json")
            .header("Idempotency-Key", token.value())
            .POST(
                HttpRequest.BodyPublishers.ofString(
                    HttpAttemptRequest.body(
                        attempt, HttpAttemptRequest.callbackUrl(callbackBase, attempt), secret)))
            .build();
    send(request, "run of " + token);
    return new Started(
        token,
        parsePositive(config.setting("timeToStart")),
        parsePositive(config.setting("timeToRun")),
        parsePositive(config.setting("timeToStop")));
  }

  /** A DELETE of {@code <endpoint>/<token>}; a task the service no longer knows is cancelled. */
  @Override
  public void cancel(AttemptRequest attempt, TaskToken token) {
    HttpRequest request =
        HttpRequest.newBuilder(taskUri(attempt.config(), token))
            .timeout(requestTimeout(attempt.config()))
            .DELETE()
            .build();
    send(request, "cancel of " + token, 404, 410);
  }

  /**
   * Without a {@code statusUrl} the service's callbacks and the attempt's timeouts (time to run,
   * stall) are all Shepherd knows, so a started task is taken as running. With one, a GET of it
   * answers {@code {"status": "PENDING" | "RUNNING" | "SUCCEEDED" | "FAILED", "reason": "...",
   * "retryable": true}}: the worker polls it every status interval, so a task whose callbacks were
   * lost still ends, and one the service no longer knows (404, 410) is Missing.
   */
  @Override
  public TaskStatus status(AttemptRequest attempt, TaskToken token) {
    String template = attempt.config().setting(STATUS_URL);
    if (template == null) {
      return new TaskStatus.Running();
    }
    URI uri = URI.create(fill(template, attempt.jobId(), attempt.attempt(), token.value()));
    String what = "status of " + token;
    HttpResponse<String> response =
        send(
            HttpRequest.newBuilder(uri)
                .timeout(requestTimeout(attempt.config()))
                .header("Accept", "application/json")
                .GET()
                .build(),
            what,
            404,
            410);
    if (response.statusCode() == 404 || response.statusCode() == 410) {
      // permanent: DistributorCalls makes it Missing once the task had time to appear
      throw new PermanentDistributorException(
          what
              + ": "
              + uri
              + " answered "
              + response.statusCode()
              + ": the service does not know it");
    }
    return statusOf(response.body(), what);
  }

  /** {@code {"status": "PENDING" | "RUNNING" | "SUCCEEDED" | "FAILED", "reason", "retryable"}}. */
  private static TaskStatus statusOf(String body, String what) {
    JsonNode json;
    try {
      json = Json.mapper().readTree(body == null ? "" : body);
    } catch (JacksonException e) {
      throw new TransientDistributorException(what + ": the answer is not JSON: " + truncate(body));
    }
    String status = json.path("status").asString("");
    return switch (status) {
      case "PENDING" -> new TaskStatus.Pending();
      case "RUNNING" -> new TaskStatus.Running();
      case "SUCCEEDED" -> new TaskStatus.Succeeded();
      case "FAILED" ->
          new TaskStatus.Failed(
              json.path("reason").asString("the service reports the task failed"),
              json.path("retryable").asBoolean(true));
      default ->
          throw new TransientDistributorException(
              what
                  + ": the answer's status must be PENDING, RUNNING, SUCCEEDED or FAILED, was '"
                  + status
                  + "'");
    };
  }

  @Override
  public Optional<URI> infoUrl(AttemptRequest attempt, TaskToken token) {
    String template = attempt.config().setting("infoUrl");
    if (template == null) {
      return Optional.empty();
    }
    return Optional.of(
        URI.create(fill(template, attempt.jobId(), attempt.attempt(), token.value())));
  }

  /**
   * One signed callback: a {@link StatusEvent} in its wire form, for this attempt and claim, signed
   * with the attempt's secret. The event's type and worker id are Shepherd's ({@code
   * http:<token>}), whatever the body said.
   */
  @Override
  public List<StatusEvent> handleNotification(
      AttemptRequest attempt, TaskToken token, Notification notification) {
    StatusEvent event = callbacks.verify(keyOf(attempt), notification);
    return List.of(asShepherds(event, attempt.type(), "http:" + token.value()));
  }

  static TaskToken tokenOf(AttemptRequest attempt) {
    return new TaskToken(attempt.jobId() + "." + attempt.attempt() + "." + attempt.fencingToken());
  }

  private static AttemptKey keyOf(AttemptRequest attempt) {
    return new AttemptKey(attempt.jobId(), attempt.attempt(), attempt.fencingToken());
  }

  private HttpResponse<String> send(HttpRequest request, String what, int... alsoFine) {
    HttpResponse<String> response;
    try {
      response = client.send(request, HttpResponse.BodyHandlers.ofString());
    } catch (IOException e) {
      // a timeout, a refused or reset connection: the service may answer next time
      throw new TransientDistributorException(what + ": " + e, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new TransientDistributorException(what + " was interrupted", e);
    }
    int status = response.statusCode();
    if (status / 100 == 2 || contains(alsoFine, status)) {
      return response;
    }
    String reason =
        what + ": " + request.uri() + " answered " + status + ": " + reason(response.body());
    if (status / 100 == 5 || status == 408 || status == 429) {
      throw new TransientDistributorException(reason);
    }
    throw new PermanentDistributorException(reason);
  }

  /** A problem+json's detail (or title), else the body's first characters. */
  private static String reason(String body) {
    if (body == null || body.isBlank()) {
      return "(no body)";
    }
    try {
      JsonNode json = Json.mapper().readTree(body);
      for (String field : List.of("detail", "reason", "title")) {
        if (json.path(field).isString()) {
          return truncate(json.path(field).asString());
        }
      }
    } catch (JacksonException e) {
      // not JSON: the text is the reason
    }
    return truncate(body.strip());
  }

  private static String truncate(String text) {
    return text.length() <= MAX_REASON ? text : text.substring(0, MAX_REASON) + "...";
  }

  private static StatusEvent asShepherds(StatusEvent e, String type, String workerId) {
    return switch (e) {
      case StatusEvent.PhaseStarted p ->
          new StatusEvent.PhaseStarted(
              p.jobId(),
              type,
              p.attempt(),
              p.fencingToken(),
              p.sequence(),
              workerId,
              p.at(),
              p.phase());
      case StatusEvent.PhaseEnded p ->
          new StatusEvent.PhaseEnded(
              p.jobId(),
              type,
              p.attempt(),
              p.fencingToken(),
              p.sequence(),
              workerId,
              p.at(),
              p.phase());
      case StatusEvent.Progress p ->
          new StatusEvent.Progress(
              p.jobId(),
              type,
              p.attempt(),
              p.fencingToken(),
              p.sequence(),
              workerId,
              p.at(),
              p.percent(),
              p.message());
      case StatusEvent.Heartbeat h ->
          new StatusEvent.Heartbeat(
              h.jobId(),
              type,
              h.attempt(),
              h.fencingToken(),
              h.sequence(),
              workerId,
              h.at(),
              h.details());
      case StatusEvent.Succeeded s ->
          new StatusEvent.Succeeded(
              s.jobId(), type, s.attempt(), s.fencingToken(), s.sequence(), workerId, s.at());
      case StatusEvent.Failed f ->
          new StatusEvent.Failed(
              f.jobId(),
              type,
              f.attempt(),
              f.fencingToken(),
              f.sequence(),
              workerId,
              f.at(),
              f.error(),
              f.retryable());
    };
  }

  private static URI taskUri(DistributorConfig config, TaskToken token) {
    String endpoint = config.setting("endpoint");
    return URI.create((endpoint.endsWith("/") ? endpoint : endpoint + "/") + encode(token.value()));
  }

  private static Duration requestTimeout(DistributorConfig config) {
    String value = config.setting("requestTimeout");
    return parsePositive(value == null ? DEFAULT_REQUEST_TIMEOUT : value);
  }

  private static Duration parsePositive(String value) {
    if (value == null) {
      return null;
    }
    try {
      Duration d = Duration.parse(value);
      return d.isPositive() ? d : null;
    } catch (DateTimeParseException e) {
      return null;
    }
  }

  private static boolean contains(int[] values, int value) {
    for (int v : values) {
      if (v == value) {
        return true;
      }
    }
    return false;
  }

  /** A URL template with the attempt's {@code {jobId}}, {@code {attempt}} and {@code {task}}. */
  private static String fill(String template, String jobId, int attempt, String task) {
    return template
        .replace("{jobId}", encode(jobId))
        .replace("{attempt}", Integer.toString(attempt))
        .replace("{task}", encode(task));
  }

  private static String encode(String value) {
    return URLEncoder.encode(value, StandardCharsets.UTF_8);
  }

  private static InvalidDistributorConfigException.Problem problem(
      String type, String field, String rule) {
    return new InvalidDistributorConfigException.Problem(type, field, rule);
  }
}
