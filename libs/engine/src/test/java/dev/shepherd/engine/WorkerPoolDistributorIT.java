package dev.shepherd.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.shepherd.distribution.AttemptRequest;
import dev.shepherd.distribution.Distributor;
import dev.shepherd.distribution.DistributorConfig;
import dev.shepherd.distribution.Distributors;
import dev.shepherd.distribution.InvalidDistributorConfigException;
import dev.shepherd.distribution.Notification;
import dev.shepherd.distribution.PermanentDistributorException;
import dev.shepherd.distribution.RunResult;
import dev.shepherd.distribution.Started;
import dev.shepherd.distribution.TaskStatus;
import dev.shepherd.distribution.TaskToken;
import dev.shepherd.engine.cancel.WorkerOrders;
import dev.shepherd.engine.dispatch.Dispatcher;
import dev.shepherd.engine.dispatch.WorkerPoolDistributor;
import dev.shepherd.model.Json;
import dev.shepherd.model.StatusEvent;
import dev.shepherd.model.StatusMessages;
import dev.shepherd.model.TraceParent;
import dev.shepherd.model.WorkMessage;
import dev.shepherd.model.WorkerControl;
import dev.shepherd.store.NewJob;
import dev.shepherd.testsupport.ServiceEndpoints;
import dev.shepherd.testsupport.TestNames;
import dev.shepherd.testsupport.WithRealServices;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.amqp.core.Message;
import org.springframework.amqp.rabbit.core.RabbitTemplate;

/**
 * {@code worker-pool} through the distributor interface (ADR 48), on a real broker and Redis: run
 * publishes the attempt's work message to its pool's queue, status follows the job record through
 * the claim and the outcome, cancel orders the worker that holds the claim, and the dispatcher
 * hands its due entries out through it.
 */
@WithRealServices
class WorkerPoolDistributorIT {

  private static final Duration TTL = Duration.ofSeconds(30);

  private EngineFixture fixture;
  private WorkerPoolDistributor pool;

  @BeforeEach
  void setUp(ServiceEndpoints endpoints, TestNames names) {
    fixture = new EngineFixture(endpoints, names);
    pool =
        new WorkerPoolDistributor(
            fixture.topology,
            fixture.publisher,
            fixture.store.queries(),
            new WorkerOrders(fixture.topology, fixture.publisher));
  }

  @AfterEach
  void tearDown() {
    fixture.close();
  }

  private String submitted() {
    return fixture
        .store
        .submissions()
        .submit(new NewJob("demo.noop", "default", "{\"n\":7}", null, null, 3))
        .jobId();
  }

  private AttemptRequest attempt(String id, int attempt, long token) {
    return new AttemptRequest(
        id,
        "demo.noop",
        attempt,
        token,
        Json.mapper().readTree("{\"n\":7}"),
        WorkerPoolDistributor.CONFIG,
        null,
        Instant.parse("2026-01-01T00:00:00Z"),
        null);
  }

  private Message nextWork() {
    return new RabbitTemplate(fixture.rabbitConnections)
        .receive(fixture.topology.workQueue("default"), 2_000);
  }

  @Test
  void runPublishesTheAttemptsWorkMessageToItsPoolsQueueWithATokenNamingTheAttempt() {
    String id = submitted();
    String trace = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
    var request =
        new AttemptRequest(
            id,
            "demo.noop",
            1,
            0,
            Json.mapper().readTree("{\"n\":7}"),
            WorkerPoolDistributor.CONFIG,
            null,
            Instant.parse("2026-01-01T00:00:00Z"),
            trace);

    var started = pool.run(request);

    assertThat(started.token()).isEqualTo(new TaskToken(id + ".1"));
    assertThat(started.timeToStart()).isNull(); // the type's own timeouts apply
    Message m = nextWork();
    assertThat(m).as("a work message in the pool's queue").isNotNull();
    WorkMessage work = Json.mapper().readValue(m.getBody(), WorkMessage.class);
    assertThat(work.jobId()).isEqualTo(id);
    assertThat(work.attempt()).isEqualTo(1);
    assertThat(work.payload().get("n").asInt()).isEqualTo(7);
    assertThat(work.submittedAt()).isEqualTo(Instant.parse("2026-01-01T00:00:00Z"));
    assertThat(m.getMessageProperties().getMessageId()).isEqualTo(id + ":1");
    // the trace continues: same trace id, a new span
    String sent = m.getMessageProperties().getHeader(TraceParent.HEADER);
    assertThat(sent).startsWith("00-0af7651916cd43dd8448eb211c80319c-").isNotEqualTo(trace);
  }

  @Test
  void aBatchIsAnsweredPerAttemptAndATypeNoQueueTakesIsRefusedWithItsReason() {
    String id = submitted();
    var nowhere =
        new AttemptRequest(
            "job-nowhere", "nobody.takes.this", 1, 0, null, WorkerPoolDistributor.CONFIG, null);

    List<RunResult> results = pool.runAll(List.of(attempt(id, 1, 0), nowhere));

    assertThat(results.get(0)).isInstanceOf(RunResult.Ran.class);
    assertThat(results.get(1))
        .isEqualTo(
            new RunResult.Refused(
                "no handler for job type nobody.takes.this: the broker has no queue bound to it"
                    + " (unroutable)"));
    assertThat(nextWork()).isNotNull();
    assertThat(nextWork()).as("only the routable attempt reached a queue").isNull();
    assertThatThrownBy(() -> pool.run(nowhere))
        .isInstanceOf(PermanentDistributorException.class)
        .hasMessageContaining("unroutable");
  }

  @Test
  void statusFollowsTheJobRecordFromQueuedThroughTheClaimToTheOutcome() {
    String id = submitted();
    var first = attempt(id, 1, 0);
    TaskToken token = pool.run(first).token();
    assertThat(pool.status(first, token)).isEqualTo(new TaskStatus.Pending());

    long claimed = fixture.claim(id, 1, "w1");
    assertThat(pool.status(first, token)).isEqualTo(new TaskStatus.Running());
    assertThat(pool.status(attempt(id, 1, claimed), token)).isEqualTo(new TaskStatus.Running());
    assertThat(pool.status(attempt(id, 1, claimed + 1), token))
        .as("a claim the request does not hold")
        .isInstanceOf(TaskStatus.Missing.class);
    assertThat(pool.status(attempt(id, 2, 0), token))
        .as("an attempt not begun yet")
        .isEqualTo(new TaskStatus.Pending());

    fixture
        .store
        .reports()
        .report(
            new StatusEvent.Failed(id, "demo.noop", 1, claimed, 1, "w1", now(), "boom", true),
            Duration.ZERO);
    // the job waits for its retry: attempt 1 is over, attempt 2 not begun
    assertThat(pool.status(attempt(id, 1, claimed), token))
        .isEqualTo(new TaskStatus.Failed("attempt 1 is over: the job is at attempt 2", true));
    assertThat(pool.status(attempt(id, 2, 0), token)).isEqualTo(new TaskStatus.Pending());

    long second = fixture.claim(id, 2, "w2");
    assertThat(pool.status(attempt(id, 2, 0), token)).isEqualTo(new TaskStatus.Running());
    fixture
        .store
        .reports()
        .report(
            new StatusEvent.Succeeded(id, "demo.noop", 2, second, 1, "w2", now()), Duration.ZERO);
    assertThat(pool.status(attempt(id, 2, second), token)).isEqualTo(new TaskStatus.Succeeded());

    assertThat(pool.status(attempt(fixture.prefix + "-no-such-job", 1, 0), token))
        .isInstanceOf(TaskStatus.Missing.class);
  }

  @Test
  void cancelOrdersTheWorkerThatHoldsTheClaimAndNoOneElse() {
    String toW1 = fixture.ordersTo("w1");
    String id = submitted();
    TaskToken token = pool.run(attempt(id, 1, 0)).token();

    pool.cancel(attempt(id, 1, 0), token); // not claimed yet: nobody to tell
    assertThat(fixture.messagesIn(toW1)).isZero();

    long claimed = fixture.claim(id, 1, "w1");
    pool.cancel(attempt(id, 1, claimed + 1), token); // another claim's request
    assertThat(fixture.messagesIn(toW1)).isZero();

    pool.cancel(attempt(id, 1, claimed), token);
    var message = new RabbitTemplate(fixture.rabbitConnections).receive(toW1, 5_000);
    assertThat(message).as("a cancel order to w1").isNotNull();
    WorkerControl order = Json.mapper().readValue(message.getBody(), WorkerControl.class);
    assertThat(order.kind()).isEqualTo(WorkerControl.Kind.CANCEL);
    assertThat(order.jobId()).isEqualTo(id);
    assertThat(order.fencingToken()).isEqualTo(claimed);
  }

  @Test
  void notificationsAreTheWorkersStatusMessagesAndOnlyTheAttemptsClaimsAreTaken() {
    String id = submitted();
    var request = attempt(id, 1, 41);
    TaskToken token = WorkerPoolDistributor.token(request);
    var progress = new StatusEvent.Progress(id, "demo.noop", 1, 41, 1, "w1", now(), 50, "half");
    var done = new StatusEvent.Succeeded(id, "demo.noop", 1, 41, 2, "w1", now());

    assertThat(pool.handleNotification(request, token, body(List.of(progress, done))))
        .containsExactly(progress, done);
    var stale = new StatusEvent.Succeeded(id, "demo.noop", 1, 40, 3, "w0", now());
    assertThatThrownBy(() -> pool.handleNotification(request, token, body(List.of(stale))))
        .isInstanceOf(PermanentDistributorException.class)
        .hasMessageContaining("fencing token 40");
    assertThatThrownBy(
            () -> pool.handleNotification(request, token, new Notification(Map.of(), "{oops")))
        .isInstanceOf(PermanentDistributorException.class)
        .hasMessageStartingWith("unreadable status message");
    assertThat(pool.infoUrl(request, token))
        .hasValueSatisfying(url -> assertThat(url.getPath()).isEqualTo("/console/jobs/" + id));
  }

  @Test
  void itRegistersByNameAndTakesNoSettings() {
    var distributors = Distributors.of(pool);
    assertThat(distributors.forConfig(WorkerPoolDistributor.CONFIG)).isSameAs(pool);
    distributors.validateAll(Map.of("demo.noop", WorkerPoolDistributor.CONFIG));
    assertThatThrownBy(
            () ->
                distributors.validateAll(
                    Map.of(
                        "demo.noop", new DistributorConfig("worker-pool", Map.of("pool", "fast")))))
        .isInstanceOf(InvalidDistributorConfigException.class)
        .hasMessageContaining("demo.noop")
        .hasMessageContaining("pool");
  }

  @Test
  void theDispatcherHandsDueAttemptsOutThroughTheDistributorItIsGiven() {
    List<String> ran = new java.util.concurrent.CopyOnWriteArrayList<>();
    String id = submitted();
    var dispatcher =
        new Dispatcher(
                fixture.store.outbox(),
                fixture.topology,
                fixture.publisher,
                10,
                TTL,
                new SimpleMeterRegistry())
            .handingOutThrough(new Recording(pool, ran));

    assertThat(dispatcher.dispatchOnce()).isEqualTo(1);

    assertThat(ran).containsExactly(id + ":1");
    assertThat(nextWork()).isNotNull();
  }

  /** The distributor it wraps, noting each attempt a batch runs (job:attempt). */
  private record Recording(Distributor inner, List<String> ran) implements Distributor {

    @Override
    public String name() {
      return inner.name();
    }

    @Override
    public void validate(String type, DistributorConfig config) {
      inner.validate(type, config);
    }

    @Override
    public Started run(AttemptRequest attempt) {
      return inner.run(attempt);
    }

    @Override
    public List<RunResult> runAll(List<AttemptRequest> attempts) {
      attempts.forEach(a -> ran.add(a.jobId() + ":" + a.attempt()));
      return inner.runAll(attempts);
    }

    @Override
    public void cancel(AttemptRequest attempt, TaskToken token) {
      inner.cancel(attempt, token);
    }

    @Override
    public TaskStatus status(AttemptRequest attempt, TaskToken token) {
      return inner.status(attempt, token);
    }

    @Override
    public java.util.Optional<java.net.URI> infoUrl(AttemptRequest attempt, TaskToken token) {
      return inner.infoUrl(attempt, token);
    }

    @Override
    public List<StatusEvent> handleNotification(
        AttemptRequest attempt, TaskToken token, Notification notification) {
      return inner.handleNotification(attempt, token, notification);
    }
  }

  private static Notification body(List<StatusEvent> events) {
    return new Notification(
        Map.of(), new String(StatusMessages.encode(events), StandardCharsets.UTF_8));
  }

  private Instant now() {
    return fixture.clock.instant();
  }
}
