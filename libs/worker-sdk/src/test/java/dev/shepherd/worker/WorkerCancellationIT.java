package dev.shepherd.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.shepherd.messaging.OutgoingMessage;
import dev.shepherd.model.JobState;
import dev.shepherd.model.Json;
import dev.shepherd.model.MetricNames;
import dev.shepherd.model.WorkMessage;
import dev.shepherd.model.WorkerControl;
import dev.shepherd.store.CancelResult;
import dev.shepherd.testsupport.WithRealServices;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.springframework.amqp.rabbit.connection.CachingConnectionFactory;
import tools.jackson.databind.JsonNode;

/**
 * A worker obeys the orders of the control exchange (issue 13): a CANCEL lets a cooperative handler
 * stop by itself within the cancel grace and interrupts one that does not only when the grace ends;
 * an ABANDON interrupts at once; an order for an attempt the worker does not run, or one it cannot
 * read, changes nothing. A job cancelled in the store stops its handler at the next lease renewal
 * even when no order arrives. No cancelled attempt reports anything.
 */
@WithRealServices
class WorkerCancellationIT extends WorkerRuntimeFixture {

  /** Well below a 30 s lease's renewal (every 10 s): what happens this fast came by the order. */
  private static final Duration ORDER_LATENCY = Duration.ofSeconds(3);

  /** One run of a handler under test, as the handler saw it. */
  static final class Run {
    final CountDownLatch started = new CountDownLatch(1);
    final CountDownLatch ended = new CountDownLatch(1);
    final AtomicLong token = new AtomicLong();
    final AtomicBoolean interrupted = new AtomicBoolean();
    final AtomicLong interruptedAt = new AtomicLong();
    final AtomicReference<String> reason = new AtomicReference<>();

    void await(CountDownLatch latch) throws InterruptedException {
      assertThat(latch.await(WAIT.toSeconds(), TimeUnit.SECONDS)).isTrue();
    }
  }

  /** Checks isCancelled every 10 ms, and stops by itself once it is true. */
  private static JobHandler<JsonNode> cooperative(String type, Run run) {
    return handler(
        type,
        job -> {
          run.token.set(job.fencingToken());
          run.started.countDown();
          try {
            while (!job.isCancelled()) {
              // a cooperative handler's work between checks: the handler under test, not a
              // wait for a result (the test awaits its latches with Awaitility)
              Thread.sleep(10);
            }
          } catch (InterruptedException e) {
            run.interrupted.set(true);
          }
          run.reason.set(job.cancellationReason().orElse(null));
          job.progress(100, "cleaned up"); // must not be published
          run.ended.countDown();
          // returning normally would mean SUCCEEDED, had the job not been cancelled
        });
  }

  /** Never checks isCancelled: blocks until interrupted. */
  private static JobHandler<JsonNode> oblivious(String type, Run run) {
    return handler(
        type,
        job -> {
          run.token.set(job.fencingToken());
          run.started.countDown();
          try {
            new CountDownLatch(1).await();
          } catch (InterruptedException e) {
            run.interruptedAt.set(System.nanoTime());
            run.interrupted.set(true);
          }
          run.reason.set(job.cancellationReason().orElse(null));
          run.ended.countDown();
        });
  }

  @Test
  void aCooperativeHandlerSeesACancelOrderAtOnceStopsWithoutAnInterruptAndReportsNothing()
      throws Exception {
    Run run = new Run();
    Duration grace = Duration.ofMillis(500);
    // the next job on the slot runs past the first one's grace: the grace's end must not reach it
    AtomicBoolean nextInterrupted = new AtomicBoolean();
    start(
        new WorkerSettings("w-0", "default", 1, Duration.ofSeconds(30)).withCancelGrace(grace),
        rabbit,
        cooperative("test.block", run),
        handler(
            "test.slow",
            job -> {
              try {
                // the next job's handler runs this long: the window in which a leaked interrupt
                // would land; the handler under test, not a wait for a result
                Thread.sleep(grace.multipliedBy(3));
              } catch (InterruptedException e) {
                nextInterrupted.set(true);
              }
            }));
    awaitOrdersConsumed("w-0");
    WorkMessage work = dispatch("test.block", "{}");
    run.await(run.started);

    cancelAsTheServerDoes(work.jobId(), "alice", "wrong input");

    assertThat(run.ended.await(ORDER_LATENCY.toMillis(), TimeUnit.MILLISECONDS))
        .as("stopped by the order, not by the renewal 10 s after the claim")
        .isTrue();
    assertThat(run.reason).hasValue("cancelled by alice: wrong input");
    assertThat(run.interrupted).isFalse();
    // counted just after the attempt is marked, which the handler may see first
    await().atMost(WAIT).until(() -> cancelled("test.block", "cancel") == 1.0);
    // the slot takes new work; once that job's outcome is here, anything the first attempt could
    // have published would be too
    WorkMessage next = dispatch("test.slow", "{}");
    assertThat(awaitEvents(next.jobId(), this::hasOutcome))
        .extracting(r -> r.event().eventName())
        .containsExactly("SUCCEEDED");
    assertThat(nextInterrupted).isFalse();
    assertThat(eventsOf(work.jobId())).isEmpty();
    assertThat(store.queries().find(work.jobId()).orElseThrow().state())
        .isEqualTo(JobState.CANCELLED);
    assertThat(meters.counter(MetricNames.LEASES_LOST).count()).isZero();
  }

  @Test
  void aHandlerThatIgnoresTheCancelIsInterruptedWhenTheGraceEndsAndNotBefore() throws Exception {
    Run run = new Run();
    Duration grace = Duration.ofSeconds(1);
    start(
        new WorkerSettings("w-0", "default", 1, Duration.ofSeconds(30)).withCancelGrace(grace),
        rabbit,
        oblivious("test.block", run),
        handler("test.phases", job -> {}));
    awaitOrdersConsumed("w-0");
    WorkMessage work = dispatch("test.block", "{}");
    run.await(run.started);

    long orderedAt = System.nanoTime();
    cancelAsTheServerDoes(work.jobId(), "alice", "too slow");

    run.await(run.ended);
    assertThat(run.interrupted).isTrue();
    assertThat(Duration.ofNanos(run.interruptedAt.get() - orderedAt)).isGreaterThanOrEqualTo(grace);
    assertThat(run.reason).hasValue("cancelled by alice: too slow");
    WorkMessage next = dispatch("test.phases", "{}"); // the same slot, once the first is over
    awaitEvents(next.jobId(), this::hasOutcome);
    assertThat(eventsOf(work.jobId())).isEmpty();
  }

  @Test
  void anOrderForAnotherAttemptIsIgnoredAndTheJobSucceeds() throws Exception {
    Run run = new Run();
    CountDownLatch release = new CountDownLatch(1);
    AtomicBoolean cancelledSeen = new AtomicBoolean();
    start(
        1,
        Duration.ofSeconds(30),
        handler(
            "test.block",
            job -> {
              run.token.set(job.fencingToken());
              run.started.countDown();
              release.await();
              cancelledSeen.set(job.isCancelled());
              run.ended.countDown();
            }));
    awaitOrdersConsumed("w-0");
    WorkMessage work = dispatch("test.block", "{}");
    run.await(run.started);

    // an earlier attempt of this job, and this attempt's token on another job
    order("w-0", WorkerControl.Kind.CANCEL, work.jobId(), run.token.get() - 1);
    order("w-0", WorkerControl.Kind.ABANDON, work.jobId(), run.token.get() - 1);
    order("w-0", WorkerControl.Kind.CANCEL, "00-notthisjob", run.token.get());
    await().atMost(WAIT).until(() -> ordersConsumed("w-0") == 3);

    release.countDown();
    run.await(run.ended);
    assertThat(cancelledSeen).isFalse();
    assertThat(awaitEvents(work.jobId(), this::hasOutcome))
        .extracting(r -> r.event().eventName())
        .containsExactly("SUCCEEDED");
    assertThat(meters.find(MetricNames.ATTEMPTS_CANCELLED).counters()).isEmpty();
  }

  @Test
  void anAbandonOrderInterruptsTheHandlerAtOnceWhateverTheCancelGrace() throws Exception {
    Run run = new Run();
    start(
        new WorkerSettings("w-0", "default", 1, Duration.ofSeconds(30))
            .withCancelGrace(Duration.ofMinutes(5)),
        rabbit,
        oblivious("test.block", run));
    awaitOrdersConsumed("w-0");
    WorkMessage work = dispatch("test.block", "{}");
    run.await(run.started);

    order(
        "w-0",
        WorkerControl.Kind.ABANDON,
        work.jobId(),
        run.token.get(),
        "timeout:startToClose",
        "ran past 10m");

    assertThat(run.ended.await(ORDER_LATENCY.toMillis(), TimeUnit.MILLISECONDS)).isTrue();
    assertThat(run.interrupted).isTrue();
    assertThat(run.reason).hasValue("abandoned by timeout:startToClose: ran past 10m");
    // counted just after the attempt is marked, which the handler may see first
    await().atMost(WAIT).until(() -> cancelled("test.block", "abandon") == 1.0);
    assertThat(meters.counter(MetricNames.LEASES_LOST).count()).isZero();
  }

  @Test
  void anUnreadableOrderIsCountedAndAckedAndTheConsumerStillAppliesTheNextOne() throws Exception {
    Run run = new Run();
    start(1, Duration.ofSeconds(30), cooperative("test.block", run));
    awaitOrdersConsumed("w-0");
    WorkMessage work = dispatch("test.block", "{}");
    run.await(run.started);

    publishOrder("w-0", "not json at all".getBytes(StandardCharsets.UTF_8));
    publishOrder(
        "w-0",
        ("{\"kind\":\"EXPLODE\",\"jobId\":\"" + work.jobId() + "\",\"fencingToken\":1}")
            .getBytes(StandardCharsets.UTF_8));
    order("w-0", WorkerControl.Kind.CANCEL, work.jobId(), run.token.get());

    run.await(run.ended);
    assertThat(run.reason).hasValue("cancelled by alice: test");
    assertThat(
            meters.find(MetricNames.UNREADABLE_MESSAGES).tag("source", "control").counter().count())
        .isEqualTo(2.0);
  }

  @Test
  void aJobCancelledInTheStoreStopsItsHandlerAtTheNextRenewalWithoutAnyOrder() throws Exception {
    Run run = new Run();
    Duration ttl = Duration.ofMillis(1500); // renewed every 500 ms
    start(1, ttl, cooperative("test.block", run), handler("test.phases", job -> {}));
    WorkMessage work = dispatch("test.block", "{}");
    run.await(run.started);

    CancelResult cancel = store.cancels().cancel(work.jobId(), "alice", "no order sent");
    assertThat(cancel.wasRunning()).isTrue();

    run.await(run.ended);
    assertThat(run.reason).hasValue("cancelled");
    assertThat(run.interrupted).as("within the 10 s grace, a cooperative handler").isFalse();
    assertThat(meters.counter(MetricNames.LEASES_LOST).count())
        .as("a cancelled job is not a lost lease")
        .isZero();
    // counted just after the attempt is marked, which the handler may see first
    await().atMost(WAIT).until(() -> cancelled("test.block", "cancel") == 1.0);
    WorkMessage next = dispatch("test.phases", "{}");
    awaitEvents(next.jobId(), this::hasOutcome);
    assertThat(eventsOf(work.jobId())).isEmpty();
  }

  @Test
  void aWorkerWhoseConnectionDroppedDeclaresItsQueueAgainAndStillObeysOrders() throws Exception {
    Run run = new Run();
    CachingConnectionFactory ownConnection = endpoints.newRabbitConnectionFactory();
    closeLast.add(ownConnection::destroy);
    start(
        new WorkerSettings("w-dropped", "default", 1, Duration.ofSeconds(30)),
        ownConnection,
        cooperative("test.block", run));
    awaitOrdersConsumed("w-dropped");

    ownConnection.resetConnection(); // the auto-delete queue goes with its consumer

    awaitOrdersConsumed("w-dropped");
    WorkMessage work = dispatch("test.block", "{}");
    run.await(run.started);
    order("w-dropped", WorkerControl.Kind.CANCEL, work.jobId(), run.token.get());
    assertThat(run.ended.await(ORDER_LATENCY.toMillis(), TimeUnit.MILLISECONDS)).isTrue();
    assertThat(run.reason).hasValue("cancelled by alice: test");
  }

  @Test
  void aStoppedWorkerTakesItsOrderQueueWithIt() {
    WorkerRuntime runtime = start(1, Duration.ofSeconds(30), handler("test.phases", job -> {}));
    awaitOrdersConsumed("w-0");

    runtime.stop(Duration.ofSeconds(2));

    await().atMost(WAIT).until(() -> !queueExists(topology.workerControlQueue("w-0")));
  }

  // ---- helpers ---------------------------------------------------------------------------------

  /** What the server's cancel does: the job record first, then the order to its worker. */
  private void cancelAsTheServerDoes(String jobId, String by, String reason) {
    CancelResult result = store.cancels().cancel(jobId, by, reason);
    assertThat(result.wasRunning()).isTrue();
    order(result.workerId(), WorkerControl.Kind.CANCEL, jobId, result.fencingToken(), by, reason);
  }

  private void order(String workerId, WorkerControl.Kind kind, String jobId, long token) {
    order(workerId, kind, jobId, token, "alice", "test");
  }

  private void order(
      String workerId,
      WorkerControl.Kind kind,
      String jobId,
      long token,
      String by,
      String reason) {
    publishOrder(
        workerId,
        Json.mapper().writeValueAsBytes(new WorkerControl(kind, jobId, token, by, reason)));
  }

  private void publishOrder(String workerId, byte[] body) {
    publisher.publish(
        new OutgoingMessage(
            topology.controlExchange(),
            topology.workerControlRoutingKey(workerId),
            "order",
            body,
            Map.of()));
  }

  /** Waits until the worker consumes its order queue (it declares it on a thread of its own). */
  private void awaitOrdersConsumed(String workerId) {
    await()
        .atMost(WAIT)
        .ignoreExceptions() // the queue does not exist yet
        .until(() -> consumers(topology.workerControlQueue(workerId)) == 1);
  }

  private double ordersConsumed(String workerId) {
    var counter =
        meters
            .find(MetricNames.MESSAGES_CONSUMED)
            .tag("queue", topology.workerControlQueue(workerId))
            .counter();
    return counter == null ? 0 : counter.count();
  }

  private boolean queueExists(String queue) {
    try {
      consumers(queue);
      return true;
    } catch (RuntimeException e) {
      return false;
    }
  }

  private double cancelled(String type, String kind) {
    var counter =
        meters
            .find(MetricNames.ATTEMPTS_CANCELLED)
            .tag(MetricNames.TAG_TYPE, type)
            .tag(MetricNames.TAG_KIND, kind)
            .counter();
    return counter == null ? 0 : counter.count();
  }
}
