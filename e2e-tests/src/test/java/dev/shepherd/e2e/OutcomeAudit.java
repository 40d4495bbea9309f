package dev.shepherd.e2e;

import static org.awaitility.Awaitility.await;

import dev.shepherd.client.ShepherdClient;
import dev.shepherd.model.JobState;
import dev.shepherd.model.Json;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.regex.Pattern;
import tools.jackson.databind.JsonNode;

/**
 * What became of a set of accepted jobs, read back through the scheduler's API: how many ended in
 * each state, and every job that breaks a promise (not exactly one terminal transition, or a
 * SUCCEEDED outcome not reported by the attempt holding the job's newest fencing token).
 *
 * <p>The history is read as JSON rather than through {@code TransitionRecord}, so that the audit
 * reads the reporter's {@code workerId} on the SUCCEED line by name: history lines of an outcome
 * carry the reporter's token and worker, and a SUCCEED line without a {@code workerId} is a
 * violation ({@link #reporterUnknown} stays 0 for a store that writes it).
 */
record OutcomeAudit(
    int jobs,
    Map<JobState, Integer> byState,
    int exactlyOneTerminal,
    int reRun,
    int leaseExpiries,
    int succeededWithCurrentToken,
    int reporterUnknown,
    Map<String, List<Line>> histories,
    List<String> violations) {

  private static final HttpClient HTTP =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

  /**
   * One line of a job's history as the API returns it.
   *
   * @param workerId who reported the outcome (SUCCEED and FAIL lines) or claimed the attempt (CLAIM
   *     lines, whose {@code reason} names the worker too); null when the line has none
   */
  record Line(
      String event, String to, int attempt, Long fencingToken, String workerId, String reason) {

    static Line of(JsonNode h) {
      return new Line(
          h.path("event").asString(null),
          h.path("to").asString(null),
          h.path("attempt").asInt(0),
          h.hasNonNull("fencingToken") ? h.path("fencingToken").asLong() : null,
          h.path("workerId").asString(null),
          h.path("reason").asString(null));
    }

    boolean terminal() {
      return to != null && JobState.valueOf(to).isTerminal();
    }

    /** The worker of a CLAIM line: its {@code workerId}, else its reason (the claimant). */
    String claimant() {
      return workerId != null ? workerId : reason;
    }

    /** Whether this line's reason names that worker ("lease expired (worker worker-1, ..."). */
    boolean names(String worker) {
      return reason != null
          && Pattern.compile("\\bworker " + Pattern.quote(worker) + "(?![\\w-])")
              .matcher(reason)
              .find();
    }
  }

  /** Waits until every job is in a terminal state, polling only those that are not yet. */
  static void awaitAllTerminal(ShepherdClient client, List<String> ids, Duration timeout) {
    Set<String> open = new HashSet<>(ids);
    await()
        .atMost(timeout)
        .pollInterval(Duration.ofSeconds(1))
        .conditionEvaluationListener(
            c -> {
              if (!c.isSatisfied() && c.getElapsedTimeInMS() % 10_000 < 1_000) {
                System.out.printf("%d of %d jobs not finished yet%n", open.size(), ids.size());
                // what the slowest wait for: their state and last transitions
                open.stream()
                    .limit(3)
                    .forEach(id -> System.out.println("  " + waiting(client, id)));
              }
            })
        .until(
            () -> {
              List<String> asked = List.copyOf(open);
              List<Boolean> ended =
                  readAll(
                      asked,
                      id -> {
                        try {
                          return client.get(id).map(j -> j.state().isTerminal()).orElse(false);
                        } catch (RuntimeException e) {
                          return false; // the scheduler may be restarting
                        }
                      });
              for (int i = 0; i < asked.size(); i++) {
                if (ended.get(i)) {
                  open.remove(asked.get(i));
                }
              }
              return open.isEmpty();
            });
  }

  /** A job that has not finished: its state, attempt and last three transitions. */
  private static String waiting(ShepherdClient client, String id) {
    try {
      return client
          .get(id)
          .map(
              j -> {
                var h = j.history();
                var last = h.subList(Math.max(0, h.size() - 3), h.size());
                return id
                    + " "
                    + j.state()
                    + " attempt "
                    + j.attempt()
                    + ", last: "
                    + last.stream()
                        .map(
                            t ->
                                t.at()
                                    + " "
                                    + t.event()
                                    + " -> "
                                    + t.to()
                                    + " ("
                                    + t.reason()
                                    + ")")
                        .toList();
              })
          .orElse(id + " not found");
    } catch (RuntimeException e) {
      return id + " unreadable: " + e;
    }
  }

  /** Reads every job through {@code GET /api/v1/jobs/{id}} of the scheduler and audits it. */
  static OutcomeAudit of(URI scheduler, List<String> ids) {
    Map<JobState, Integer> byState = new EnumMap<>(JobState.class);
    Map<String, List<Line>> histories = new LinkedHashMap<>();
    List<String> violations = new ArrayList<>();
    int reRun = 0;
    int expiries = 0;
    int currentToken = 0;
    int reporterUnknown = 0;
    int oneTerminal = 0;
    List<JsonNode> jobs = fetchAll(scheduler, ids);
    for (int i = 0; i < ids.size(); i++) {
      String id = ids.get(i);
      JsonNode job = jobs.get(i);
      if (job == null) {
        violations.add(id + ": accepted but unknown");
        continue;
      }
      JobState state = JobState.valueOf(job.path("state").asString());
      byState.merge(state, 1, Integer::sum);
      List<Line> history = new ArrayList<>();
      job.path("history").forEach(h -> history.add(Line.of(h)));
      histories.put(id, history);
      long terminal = history.stream().filter(Line::terminal).count();
      if (state.isTerminal() && terminal == 1) {
        oneTerminal++;
      } else {
        violations.add(id + ": " + state + " with " + terminal + " terminal transitions");
      }
      List<Line> claims = history.stream().filter(h -> "CLAIM".equals(h.event())).toList();
      if (claims.size() > 1) {
        reRun++;
      }
      expiries += (int) history.stream().filter(h -> "LEASE_EXPIRED".equals(h.event())).count();
      if (state != JobState.SUCCEEDED) {
        continue;
      }
      Line succeeded = history.getLast();
      Line lastClaim = claims.isEmpty() ? null : claims.getLast();
      // The SUCCEED line carries the token and worker of the report that was applied; the newest
      // CLAIM line those of the attempt allowed to report. Any difference is a stale outcome.
      boolean sameToken =
          "SUCCEED".equals(succeeded.event())
              && lastClaim != null
              && succeeded.fencingToken() != null
              && Objects.equals(succeeded.fencingToken(), lastClaim.fencingToken())
              && succeeded.attempt() == job.path("attempt").asInt()
              && claims.stream()
                  .allMatch(
                      c ->
                          c.fencingToken() != null && c.fencingToken() <= succeeded.fencingToken());
      boolean sameWorker =
          succeeded.workerId() != null
              && lastClaim != null
              && succeeded.workerId().equals(lastClaim.claimant());
      if (sameToken && sameWorker) {
        currentToken++;
        if (succeeded.workerId() == null) {
          reporterUnknown++;
        }
      } else {
        violations.add(
            id
                + ": SUCCEEDED by token "
                + succeeded.fencingToken()
                + " of worker "
                + succeeded.workerId()
                + " but the newest claim holds "
                + (lastClaim == null ? null : lastClaim.fencingToken())
                + " of worker "
                + (lastClaim == null ? null : lastClaim.claimant()));
      }
    }
    return new OutcomeAudit(
        ids.size(),
        byState,
        oneTerminal,
        reRun,
        expiries,
        currentToken,
        reporterUnknown,
        histories,
        violations);
  }

  /** How many jobs {@link #readAll} reads at once. */
  private static final int READERS = 4;

  /** {@link #fetch} of every id, in the order of {@code ids}. */
  static List<JsonNode> fetchAll(URI scheduler, List<String> ids) {
    return readAll(ids, id -> fetch(scheduler, id));
  }

  /**
   * {@code read} of every id, {@link #READERS} at a time, in the order of {@code ids}: one by one,
   * a chaos run's 2,000 jobs took over half a minute to read under make test's load.
   */
  private static <T> List<T> readAll(
      List<String> ids, java.util.function.Function<String, T> read) {
    var readers = new java.util.concurrent.Semaphore(READERS);
    try (var executor = java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor()) {
      List<java.util.concurrent.Future<T>> reads = new ArrayList<>();
      for (String id : ids) {
        reads.add(
            executor.submit(
                () -> {
                  readers.acquire();
                  try {
                    return read.apply(id);
                  } finally {
                    readers.release();
                  }
                }));
      }
      List<T> values = new ArrayList<>();
      for (var value : reads) {
        values.add(value.get());
      }
      return values;
    } catch (java.util.concurrent.ExecutionException e) {
      throw e.getCause() instanceof RuntimeException r
          ? r
          : new IllegalStateException(e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /** The job as JSON, or null when the scheduler does not know it. */
  static JsonNode fetch(URI scheduler, String id) {
    var request =
        HttpRequest.newBuilder(scheduler.resolve("/api/v1/jobs/" + id))
            .header("X-Api-Key", dev.shepherd.testsupport.TestApiKeys.ADMIN_KEY)
            .timeout(Duration.ofSeconds(10))
            .GET()
            .build();
    try {
      HttpResponse<String> response = HTTP.send(request, HttpResponse.BodyHandlers.ofString());
      if (response.statusCode() == 404) {
        return null;
      }
      if (response.statusCode() != 200) {
        throw new IllegalStateException(request.uri() + ": HTTP " + response.statusCode());
      }
      return Json.mapper().readTree(response.body());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  int count(JobState state) {
    return byState.getOrDefault(state, 0);
  }

  List<Line> history(String id) {
    return histories.getOrDefault(id, List.of());
  }

  String summary() {
    return String.format(
        "%d accepted jobs %s; %d in exactly one terminal state; %d of %d SUCCEEDED reported by the"
            + " attempt holding the current fencing token (%d of them checked on the token alone:"
            + " no reporter in history); %d ran more than once; %d lease expiries; %d violations",
        jobs,
        byState,
        exactlyOneTerminal,
        succeededWithCurrentToken,
        count(JobState.SUCCEEDED),
        reporterUnknown,
        reRun,
        leaseExpiries,
        violations.size());
  }
}
