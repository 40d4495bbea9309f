package dev.shepherd.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.shepherd.distribution.AttemptRequest;
import dev.shepherd.distribution.Distributor;
import dev.shepherd.distribution.DistributorCalls;
import dev.shepherd.distribution.DistributorConfig;
import dev.shepherd.distribution.Notification;
import dev.shepherd.distribution.PermanentDistributorException;
import dev.shepherd.distribution.Started;
import dev.shepherd.distribution.TaskStatus;
import dev.shepherd.distribution.TaskToken;
import dev.shepherd.distribution.TransientDistributorException;
import dev.shepherd.model.Json;
import dev.shepherd.model.MetricNames;
import dev.shepherd.model.StatusEvent;
import io.micrometer.core.instrument.Metrics;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/**
 * How a {@link DistributedHandler} maps a task's reports onto its attempt, without a broker: the
 * backend's events are delivered while the distributor runs the task (as a callback that overtakes
 * the run's answer would be), and the context records what the handler reported.
 */
class DistributedHandlerTest {

  private static final String JOB = "00-job";
  private static final long TOKEN = 42;
  private static final DistributorConfig CONFIG =
      new DistributorConfig("fake", Map.of("endpoint", "http://svc/tasks"));

  private final RemoteReports reports = new RemoteReports();
  private final RecordingContext job = new RecordingContext();

  @Test
  void remotePhasesNestAndAnOutcomeInsideAPhaseEndsItFirst() throws Exception {
    var fake =
        new FakeDistributor(
            seq ->
                List.of(
                    new StatusEvent.PhaseStarted(
                        JOB, "t", 1, TOKEN, seq++, "s", Instant.EPOCH, "a"),
                    new StatusEvent.PhaseStarted(
                        JOB, "t", 1, TOKEN, seq++, "s", Instant.EPOCH, "b"),
                    new StatusEvent.PhaseEnded(JOB, "t", 1, TOKEN, seq++, "s", Instant.EPOCH, "x"),
                    new StatusEvent.Progress(
                        JOB, "t", 1, TOKEN, seq++, "s", Instant.EPOCH, 40, "m"),
                    new StatusEvent.PhaseEnded(JOB, "t", 1, TOKEN, seq++, "s", Instant.EPOCH, "b"),
                    new StatusEvent.Succeeded(JOB, "t", 1, TOKEN, seq, "s", Instant.EPOCH)));

    handler(fake).handle(job);

    assertThat(job.reports)
        .containsExactly(
            "start a", "start b", "progress 40 m", "end b", "end a"); // x was never open
    assertThat(fake.cancels).isEmpty();
    assertThat(reports.openCount()).isZero();
  }

  @Test
  void theEndOfAPhaseThatIsNotOpenOrAPhaseWithoutANameChangesNothing() throws Exception {
    var fake =
        new FakeDistributor(
            seq ->
                List.of(
                    new StatusEvent.PhaseEnded(JOB, "t", 1, TOKEN, seq++, "s", Instant.EPOCH, null),
                    new StatusEvent.PhaseEnded(JOB, "t", 1, TOKEN, seq++, "s", Instant.EPOCH, "a"),
                    new StatusEvent.PhaseStarted(JOB, "t", 1, TOKEN, seq++, "s", Instant.EPOCH, ""),
                    new StatusEvent.Progress(
                        JOB, "t", 1, TOKEN, seq++, "s", Instant.EPOCH, 10, "m"),
                    new StatusEvent.Succeeded(JOB, "t", 1, TOKEN, seq, "s", Instant.EPOCH)));

    handler(fake).handle(job);

    // not taken for the end of the attempt: the task went on to report progress and succeed
    assertThat(job.reports).containsExactly("progress 10 m");
  }

  @Test
  void heartbeatsCarryTheirDetailsAndDetailsTooBigToKeepAreLeftOut() throws Exception {
    JsonNode small = Json.mapper().readTree("{\"page\":3}");
    JsonNode big = Json.mapper().valueToTree(Map.of("page", "x".repeat(17 * 1024)));
    var fake =
        new FakeDistributor(
            seq ->
                List.of(
                    new StatusEvent.Heartbeat(JOB, "t", 1, TOKEN, seq++, "s", Instant.EPOCH, small),
                    new StatusEvent.Heartbeat(JOB, "t", 1, TOKEN, seq++, "s", Instant.EPOCH, big),
                    new StatusEvent.Succeeded(JOB, "t", 1, TOKEN, seq, "s", Instant.EPOCH)));

    handler(fake).handle(job);

    assertThat(job.reports).containsExactly("heartbeat {\"page\":3}", "heartbeat null");
  }

  @Test
  void aFailedOutcomeIsPermanentOrRetryableAsTheTaskSaid() {
    var permanent =
        new FakeDistributor(
            seq ->
                List.of(
                    new StatusEvent.Failed(
                        JOB, "t", 1, TOKEN, seq, "s", Instant.EPOCH, "bad input", false)));
    assertThatThrownBy(() -> handler(permanent).handle(job))
        .isInstanceOf(PermanentJobException.class)
        .hasMessage("bad input");

    var retryable =
        new FakeDistributor(
            seq ->
                List.of(
                    new StatusEvent.Failed(
                        JOB, "t", 1, TOKEN, seq, "s", Instant.EPOCH, "out of memory", true)));
    assertThatThrownBy(() -> handler(retryable).handle(job))
        .isInstanceOf(RetryableJobException.class)
        .hasMessage("out of memory");
    assertThat(reports.openCount()).isZero();
  }

  @Test
  void aRunThatFailsTransientlyOnEveryCallFailsTheAttemptRetryableAndClosesTheMailbox() {
    var fake = new FakeDistributor(seq -> List.of());
    fake.runFailure = new TransientDistributorException("503 from the service");

    assertThatThrownBy(() -> handler(fake).handle(job))
        .isInstanceOf(RetryableJobException.class)
        .hasMessageContaining("failed transiently 2 times")
        .hasMessageContaining("503 from the service");
    assertThat(fake.runs).isEqualTo(2);
    assertThat(reports.openCount()).isZero();
  }

  @Test
  void aCancelledAttemptCancelsItsTaskOnceAndEnds() {
    var fake = new FakeDistributor(seq -> List.of());
    job.cancelled = true;

    assertThatThrownBy(() -> handler(fake).handle(job))
        .isInstanceOf(RetryableJobException.class)
        .hasMessageContaining("stopped: cancelled by alice");
    assertThat(fake.cancels).containsExactly(JOB + ".1." + TOKEN);
    assertThat(reports.openCount()).isZero();
  }

  // ---- outcomes the backend's status gives (a Kubernetes Job) --------------------------------

  @Test
  void aTaskWhoseStatusTurnsSucceededEndsTheAttemptSucceededWithoutACallback() throws Exception {
    var fake = new FakeDistributor(seq -> List.of());
    fake.statuses =
        n ->
            switch (n) {
              case 1 -> new TaskStatus.Pending();
              case 2, 3 -> new TaskStatus.Running();
              default -> new TaskStatus.Succeeded();
            };

    polling(fake).handle(job);

    assertThat(fake.statusCalls).isEqualTo(4);
    assertThat(fake.cancels).isEmpty();
    assertThat(reports.openCount()).isZero();
  }

  @Test
  void aFailedStatusFailsTheAttemptWithTheBackendsReasonRetryableOrNot() {
    var oom = new FakeDistributor(seq -> List.of());
    oom.statuses = n -> new TaskStatus.Failed("OOMKilled (exit code 137)", true);
    assertThatThrownBy(() -> polling(oom).handle(job))
        .isInstanceOf(RetryableJobException.class)
        .hasMessage("OOMKilled (exit code 137)");

    var refused = new FakeDistributor(seq -> List.of());
    refused.statuses = n -> new TaskStatus.Failed("image not allowed", false);
    assertThatThrownBy(() -> polling(refused).handle(job))
        .isInstanceOf(PermanentJobException.class)
        .hasMessage("image not allowed");
    assertThat(reports.openCount()).isZero();
  }

  @Test
  void aTaskTheBackendNoLongerKnowsFailsTheAttemptRetryableAsMissingInsteadOfHanging() {
    var fake = new FakeDistributor(seq -> List.of());
    fake.statuses =
        n ->
            n == 1
                ? new TaskStatus.Running()
                : new PermanentDistributorException("Job work/j-1 does not exist");

    assertThatThrownBy(() -> polling(fake).handle(job))
        .isInstanceOf(RetryableJobException.class)
        .hasMessage("missing: Job work/j-1 does not exist");
    assertThat(fake.cancels).as("nothing to cancel").isEmpty();
  }

  @Test
  void aStatusThatFailsTransientlyIsAskedAgainAtTheNextInterval() throws Exception {
    var fake = new FakeDistributor(seq -> List.of());
    fake.statuses =
        n ->
            n <= 4
                ? new TransientDistributorException("API server 503")
                : new TaskStatus.Succeeded();

    polling(fake).handle(job);

    assertThat(fake.statusCalls)
        .as("two intervals of two calls each, then the answer")
        .isEqualTo(5);
  }

  @Test
  void runningAfterPendingIsTheTasksStartButRunningFromTheFirstAnswerIsNot() throws Exception {
    long runAt = System.nanoTime();
    Function<Integer, Object> pendingThenRunning =
        n -> {
          if (n == 1) {
            return new TaskStatus.Pending();
          }
          boolean late = System.nanoTime() - runAt > Duration.ofMillis(600).toNanos();
          return late ? new TaskStatus.Succeeded() : new TaskStatus.Running();
        };
    var kubernetesLike = new FakeDistributor(seq -> List.of());
    kubernetesLike.timeToStart = Duration.ofMillis(300);
    kubernetesLike.timeToRun = Duration.ofHours(1);
    kubernetesLike.statuses = pendingThenRunning;

    polling(kubernetesLike).handle(job); // started by its Running: no timeout:timeToStart

    var httpLike = new FakeDistributor(seq -> List.of());
    httpLike.timeToStart = Duration.ofMillis(300);
    httpLike.timeToRun = Duration.ofHours(1);
    assertThatThrownBy(() -> polling(httpLike).handle(job))
        .isInstanceOf(RetryableJobException.class)
        .hasMessage("timeout:timeToStart");
    assertThat(httpLike.cancels).hasSize(1);
  }

  @Test
  void aTaskCancelledPastItsTimeToRunIsAwaitedUntilItStopsWithinItsTimeToStop() {
    var stops = new FakeDistributor(seq -> List.of());
    stops.timeToRun = Duration.ofMillis(50);
    stops.timeToStop = Duration.ofSeconds(30);
    // running until it is cancelled, then running for two more asks, then over
    var afterCancel = new AtomicInteger();
    stops.statuses =
        n ->
            stops.cancels.isEmpty() || afterCancel.incrementAndGet() <= 2
                ? new TaskStatus.Running()
                : new TaskStatus.Failed("cancelled", true);

    assertThatThrownBy(() -> polling(stops).handle(job))
        .isInstanceOf(RetryableJobException.class)
        .hasMessage("timeout:timeToRun");
    assertThat(stops.cancels).hasSize(1);
    assertThat(afterCancel.get()).as("asked until the task said it was over").isEqualTo(3);

    var never = new FakeDistributor(seq -> List.of());
    never.timeToRun = Duration.ofMillis(50);
    never.timeToStop = Duration.ofMillis(200);
    var asked = new AtomicInteger();
    never.statuses =
        n -> {
          if (!never.cancels.isEmpty()) {
            asked.incrementAndGet();
          }
          return new TaskStatus.Running();
        };
    assertThatThrownBy(() -> polling(never).handle(job))
        .isInstanceOf(RetryableJobException.class)
        .hasMessage("timeout:timeToRun");
    assertThat(never.cancels).hasSize(1);
    assertThat(asked.get()).as("asked again until timeToStop passed, then let go").isGreaterThan(1);
  }

  @Test
  void aTaskWhoseInfoUrlIsKnownOnlyOnceItStartedIsRecordedAgainThen() throws Exception {
    var fake = new FakeDistributor(seq -> List.of());
    fake.statuses =
        n ->
            switch (n) {
              case 1 -> new TaskStatus.Pending();
              case 2 -> new TaskStatus.Running();
              default -> new TaskStatus.Succeeded();
            };
    // a Job's logs: its pod exists once it runs
    fake.info = n -> n >= 2 ? URI.create("https://k8s/pods/j-1/log") : null;
    List<String> recorded = new CopyOnWriteArrayList<>();
    var calls =
        new DistributorCalls(
            2, Duration.ZERO, Duration.ZERO, Duration.ZERO, d -> {}, Clock.systemUTC());
    var handler =
        new DistributedHandler(
            "t",
            fake,
            CONFIG,
            calls,
            reports,
            Clock.systemUTC(),
            null,
            Duration.ofMillis(10),
            (jobId, token, distributor, task, infoUrl, settings) ->
                recorded.add(task + " " + infoUrl + " " + settings));

    handler.handle(job);

    // each time with the settings the attempt started with: its configuration snapshot
    assertThat(recorded)
        .containsExactly(
            JOB + ".1." + TOKEN + " null {endpoint=http://svc/tasks}",
            JOB + ".1." + TOKEN + " https://k8s/pods/j-1/log {endpoint=http://svc/tasks}");
  }

  @Test
  void eachAttemptIsCountedByTypeDistributorAndHowItEnded() throws Exception {
    var registry = new SimpleMeterRegistry();
    Metrics.globalRegistry.add(registry);
    try {
      var succeeds = new FakeDistributor(seq -> List.of());
      succeeds.statuses = n -> new TaskStatus.Succeeded();
      polling(succeeds).handle(job);
      var missing = new FakeDistributor(seq -> List.of());
      missing.statuses = n -> new PermanentDistributorException("gone");
      assertThatThrownBy(() -> polling(missing).handle(job))
          .isInstanceOf(RetryableJobException.class);
      var refused = new FakeDistributor(seq -> List.of());
      refused.runFailure = new PermanentDistributorException("422: no such report");
      assertThatThrownBy(() -> handler(refused).handle(job))
          .isInstanceOf(PermanentJobException.class);
      job.cancelled = true;
      assertThatThrownBy(() -> handler(new FakeDistributor(seq -> List.of())).handle(job))
          .isInstanceOf(RetryableJobException.class);

      for (String outcome : List.of("succeeded", "missing", "refused", "stopped")) {
        assertThat(
                registry
                    .get(MetricNames.WORKER_DISTRIBUTED_ATTEMPTS)
                    .tags("type", "t", "distributor", "fake", "outcome", outcome)
                    .counter()
                    .count())
            .as(outcome)
            .isEqualTo(1.0);
      }
      // counters made by earlier tests in this JVM join the new registry at zero
      assertThat(
              registry.find(MetricNames.WORKER_DISTRIBUTED_ATTEMPTS).counters().stream()
                  .mapToDouble(c -> c.count())
                  .sum())
          .as("one count per attempt, no other outcome")
          .isEqualTo(4.0);
    } finally {
      Metrics.globalRegistry.remove(registry);
    }
  }

  @Test
  void aHandlerForAnotherDistributorThanItsConfigurationNamesIsRefused() {
    assertThatThrownBy(
            () ->
                new DistributedHandler(
                    "t",
                    new FakeDistributor(seq -> List.of()),
                    new DistributorConfig("http", Map.of()),
                    calls(),
                    reports,
                    Clock.systemUTC()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("'http', not 'fake'");
  }

  private DistributedHandler handler(Distributor distributor) {
    return new DistributedHandler("t", distributor, CONFIG, calls(), reports, Clock.systemUTC());
  }

  /** A handler that asks the task's status every 10 ms, with no visibility grace. */
  private DistributedHandler polling(Distributor distributor) {
    var calls =
        new DistributorCalls(
            2, Duration.ZERO, Duration.ZERO, Duration.ZERO, d -> {}, Clock.systemUTC());
    return new DistributedHandler(
        "t", distributor, CONFIG, calls, reports, Clock.systemUTC(), null, Duration.ofMillis(10));
  }

  private static DistributorCalls calls() {
    return new DistributorCalls(
        2,
        Duration.ZERO,
        Duration.ZERO,
        DistributorCalls.DEFAULT_VISIBILITY_GRACE,
        d -> {},
        Clock.systemUTC());
  }

  /**
   * A backend whose task reports {@code events} (numbered from 1) before its run even returns, and
   * that records its runs and cancels.
   */
  private final class FakeDistributor implements Distributor {
    final Function<Long, List<StatusEvent>> events;
    final List<String> cancels = new CopyOnWriteArrayList<>();
    RuntimeException runFailure;
    int runs;
    Duration timeToStart;
    Duration timeToRun;
    Duration timeToStop;

    /** The answer to the n-th status call (from 1): a status, or an exception to throw. */
    Function<Integer, Object> statuses = n -> new TaskStatus.Running();

    int statusCalls;

    /** The info URL after that many status calls; none by default. */
    Function<Integer, URI> info = n -> null;

    FakeDistributor(Function<Long, List<StatusEvent>> events) {
      this.events = events;
    }

    @Override
    public String name() {
      return "fake";
    }

    @Override
    public void validate(String type, DistributorConfig config) {}

    @Override
    public Started run(AttemptRequest attempt) {
      runs++;
      if (runFailure != null) {
        throw runFailure;
      }
      assertThat(attempt.deadline()).isNull();
      reports.deliver(attempt.jobId(), attempt.fencingToken(), events.apply(1L));
      return new Started(
          new TaskToken(attempt.jobId() + "." + attempt.attempt() + "." + attempt.fencingToken()),
          timeToStart,
          timeToRun,
          timeToStop);
    }

    @Override
    public void cancel(AttemptRequest attempt, TaskToken token) {
      cancels.add(token.value());
    }

    @Override
    public TaskStatus status(AttemptRequest attempt, TaskToken token) {
      Object answer = statuses.apply(++statusCalls);
      if (answer instanceof RuntimeException e) {
        throw e;
      }
      return (TaskStatus) answer;
    }

    @Override
    public Optional<URI> infoUrl(AttemptRequest attempt, TaskToken token) {
      return Optional.ofNullable(info.apply(statusCalls));
    }

    @Override
    public List<StatusEvent> handleNotification(
        AttemptRequest attempt, TaskToken token, Notification notification) {
      return List.of();
    }
  }

  /** A context that records what is reported, refusing heartbeat details as an attempt does. */
  private static final class RecordingContext implements JobContext<JsonNode> {
    final List<String> reports = new ArrayList<>();
    volatile boolean cancelled;

    @Override
    public String jobId() {
      return JOB;
    }

    @Override
    public int attempt() {
      return 1;
    }

    @Override
    public long fencingToken() {
      return TOKEN;
    }

    @Override
    public String workerId() {
      return "w";
    }

    @Override
    public JsonNode payload() {
      return Json.mapper().createObjectNode();
    }

    @Override
    public <T> T phase(String name, Callable<T> body) throws Exception {
      reports.add("start " + name);
      try {
        return body.call();
      } finally {
        reports.add("end " + name);
      }
    }

    @Override
    public void phase(String name, PhaseBody body) throws Exception {
      phase(
          name,
          () -> {
            body.run();
            return null;
          });
    }

    @Override
    public void progress(int percent, String message) {
      reports.add("progress " + percent + " " + message);
    }

    @Override
    public void heartbeat(Object details) {
      String json = details == null ? "null" : Json.mapper().writeValueAsString(details);
      if (json.length() > MAX_HEARTBEAT_DETAILS_BYTES) {
        throw new IllegalArgumentException("over 16 KiB");
      }
      reports.add("heartbeat " + json);
    }

    @Override
    public boolean isCancelled() {
      return cancelled;
    }

    @Override
    public Optional<String> cancellationReason() {
      return cancelled ? Optional.of("cancelled by alice: test") : Optional.empty();
    }
  }
}
