package dev.shepherd.engine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.shepherd.engine.cancel.WorkerOrders;
import dev.shepherd.engine.recovery.Timeouts;
import dev.shepherd.model.JobState;
import dev.shepherd.model.JobTimeouts;
import dev.shepherd.model.Json;
import dev.shepherd.model.RetryPolicy;
import dev.shepherd.model.WorkerControl;
import dev.shepherd.store.ClaimResult;
import dev.shepherd.store.DueEntry;
import dev.shepherd.store.NewJob;
import dev.shepherd.testsupport.ServiceEndpoints;
import dev.shepherd.testsupport.TestNames;
import dev.shepherd.testsupport.WithRealServices;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.amqp.rabbit.core.RabbitTemplate;

/** The recovery pass that ends attempts past their startToClose or stall timeout (ADR 18). */
@WithRealServices
class TimeoutsIT {

  private static final Duration TTL = Duration.ofSeconds(30);

  private EngineFixture fixture;
  private final SimpleMeterRegistry meters = new SimpleMeterRegistry();
  private Timeouts timeouts;

  @BeforeEach
  void setUp(ServiceEndpoints endpoints, TestNames names) {
    fixture = new EngineFixture(endpoints, names);
    timeouts =
        new Timeouts(
            fixture.store.leaseRecovery(),
            new RetryPolicy(Duration.ZERO, Duration.ZERO),
            new SplittableRandom(1),
            100,
            meters,
            new WorkerOrders(fixture.topology, fixture.publisher));
  }

  @AfterEach
  void tearDown() {
    fixture.close(); // with the worker control queues ordersTo declared
  }

  private WorkerControl receive(String queue) {
    var message = new RabbitTemplate(fixture.rabbitConnections).receive(queue, 5_000);
    assertThat(message).as("an order in " + queue).isNotNull();
    return Json.mapper().readValue(message.getBody(), WorkerControl.class);
  }

  private String running(String type, int maxAttempts, JobTimeouts limits, String worker) {
    String id =
        fixture
            .store
            .submissions()
            .submit(new NewJob(type, "default", "{}", null, null, maxAttempts, null, limits))
            .jobId();
    int partition = fixture.store.keys().partitionOf(id);
    List<DueEntry> due = fixture.store.outbox().reserveDue(partition, 100, TTL);
    fixture.store.outbox().markDispatched(partition, due);
    assertThat(fixture.store.leases().claim(id, 1, worker, TTL))
        .isInstanceOf(ClaimResult.Claimed.class);
    return id;
  }

  private long token(String id) {
    return fixture.store.queries().find(id).orElseThrow().history().stream()
        .filter(h -> h.event() == dev.shepherd.model.JobEvent.CLAIM)
        .reduce((a, b) -> b)
        .orElseThrow()
        .fencingToken();
  }

  private double timedOut(String type, String timeout) {
    var counter =
        meters.find("shepherd.attempts.timed.out").tags("type", type, "timeout", timeout).counter();
    return counter == null ? 0 : counter.count();
  }

  @Test
  void attemptsPastTheirTimeoutsAreEndedCountedByTypeAndTimeoutAndOthersLeftRunning() {
    String toW1 = fixture.ordersTo("w1");
    String toW2 = fixture.ordersTo("w2");
    String stalled = running("demo.noop", 3, new JobTimeouts(null, Duration.ofSeconds(5)), "w1");
    String tooLong =
        running("site.generate", 1, new JobTimeouts(Duration.ofSeconds(5), null), "w2");
    String patient = running("demo.noop", 3, new JobTimeouts(Duration.ofMinutes(5), null), "w3");
    String unbounded = running("demo.noop", 3, JobTimeouts.NONE, "w4");

    assertThat(timeouts.timeOutOnce()).isZero();
    fixture.clock.advance(Duration.ofSeconds(6));
    assertThat(timeouts.timeOutOnce()).isEqualTo(2);
    assertThat(timeouts.timeOutOnce()).isZero();

    assertThat(fixture.store.queries().find(stalled).orElseThrow().state())
        .isEqualTo(JobState.RETRY_WAIT);
    assertThat(fixture.store.queries().find(tooLong).orElseThrow().state())
        .isEqualTo(JobState.DEAD);
    assertThat(fixture.store.queries().find(patient).orElseThrow().state())
        .isEqualTo(JobState.RUNNING);
    assertThat(fixture.store.queries().find(unbounded).orElseThrow().state())
        .isEqualTo(JobState.RUNNING);
    assertThat(timedOut("demo.noop", "stall")).isEqualTo(1.0);
    // each timed-out attempt's worker is told to stop it, naming the attempt by its token
    WorkerControl toStalled = receive(toW1);
    assertThat(toStalled.kind()).isEqualTo(WorkerControl.Kind.ABANDON);
    assertThat(toStalled.jobId()).isEqualTo(stalled);
    assertThat(toStalled.fencingToken()).isEqualTo(token(stalled));
    assertThat(toStalled.by()).isEqualTo("timeout:stall");
    assertThat(receive(toW2))
        .extracting(WorkerControl::jobId, WorkerControl::by)
        .containsExactly(tooLong, "timeout:startToClose");
    assertThat(timedOut("site.generate", "startToClose")).isEqualTo(1.0);
    assertThat(
            meters.counter("shepherd.jobs.retried", "type", "demo.noop", "pool", "default").count())
        .isEqualTo(1.0);
    assertThat(
            meters
                .counter("shepherd.jobs.dead", "type", "site.generate", "pool", "default")
                .count())
        .isEqualTo(1.0);
  }
}
