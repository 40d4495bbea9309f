package dev.shepherd.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.shepherd.model.StatusEvent;
import dev.shepherd.model.StatusMessages;
import dev.shepherd.model.TraceParent;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.springframework.amqp.core.Message;
import org.springframework.amqp.rabbit.core.RabbitTemplate;

/**
 * The worker's status sender (ADR 36) against a real broker: events published at once from many
 * slots arrive each exactly once and in each attempt's order, several of them in one message, and
 * each caller returns only once its own event was confirmed.
 */
class StatusPublisherIT extends WorkerRuntimeFixture {

  private static final int SLOTS = 16;
  private static final int EVENTS = 25;

  private record Arrived(StatusEvent event, String traceparents) {}

  private final List<Arrived> arrived = new CopyOnWriteArrayList<>();
  private final List<Integer> eventsPerMessage = new CopyOnWriteArrayList<>();

  private static StatusEvent progress(int slot, int sequence) {
    return new StatusEvent.Progress(
        "00-slot" + slot, "test.plain", 1, 7, sequence, "w-0", Instant.now(), sequence, null);
  }

  private int drainStatusQueue() {
    var template = new RabbitTemplate(rabbit);
    Message m;
    while ((m = template.receive(topology.statusQueue())) != null) {
      List<StatusEvent> events = StatusMessages.decode(m.getBody());
      eventsPerMessage.add(events.size());
      Object each = m.getMessageProperties().getHeader(StatusMessages.TRACEPARENTS_HEADER);
      List<String> traces = StatusMessages.traceparents(each);
      for (int i = 0; i < events.size(); i++) {
        arrived.add(new Arrived(events.get(i), traces.isEmpty() ? null : traces.get(i)));
      }
    }
    return arrived.size();
  }

  @Test
  void eventsFromManySlotsArriveOnceInOrderSeveralToAMessage() {
    var statuses = new StatusPublisher(publisher, topology);
    closeLast.add(statuses);
    TraceParent trace = TraceParent.parse(TRACE).orElseThrow();
    List<CompletableFuture<Void>> slots = new ArrayList<>();
    for (int slot = 0; slot < SLOTS; slot++) {
      int s = slot;
      slots.add(
          CompletableFuture.runAsync(
              () -> {
                for (int seq = 1; seq <= EVENTS; seq++) {
                  statuses.publish(progress(s, seq), trace); // returns once confirmed
                }
              },
              r -> Thread.ofPlatform().start(r)));
    }
    CompletableFuture.allOf(slots.toArray(CompletableFuture[]::new)).join();

    await().atMost(WAIT).until(() -> drainStatusQueue() >= SLOTS * EVENTS);
    assertThat(arrived).hasSize(SLOTS * EVENTS);
    Map<String, List<Long>> sequences =
        arrived.stream()
            .collect(
                Collectors.groupingBy(
                    a -> a.event().jobId(),
                    Collectors.mapping(a -> a.event().sequence(), Collectors.toList())));
    List<Long> inOrder = IntStream.rangeClosed(1, EVENTS).mapToObj(i -> (long) i).toList();
    assertThat(sequences)
        .hasSize(SLOTS)
        .allSatisfy((job, seqs) -> assertThat(seqs).isEqualTo(inOrder));
    assertThat(eventsPerMessage.stream().max(Comparator.naturalOrder()).orElseThrow())
        .as("events queued while a message waited for its confirm share the next one")
        .isGreaterThan(1)
        .isLessThanOrEqualTo(StatusPublisher.MAX_EVENTS);
    assertThat(eventsPerMessage.stream().mapToInt(Integer::intValue).sum())
        .isEqualTo(SLOTS * EVENTS);
    // every event of an array carries its own trace context, a child span of the work's trace
    assertThat(arrived)
        .filteredOn(a -> a.traceparents() != null)
        .isNotEmpty()
        .allSatisfy(
            a ->
                assertThat(a.traceparents())
                    .startsWith("00-4bf92f3577b34da6a3ce929d0e0e4736-")
                    .doesNotContain("00f067aa0ba902b7"));
  }

  @Test
  void anEventPublishedAfterTheSenderStoppedIsSentByItsCaller() {
    var statuses = new StatusPublisher(publisher, topology);
    statuses.close();

    statuses.publish(progress(0, 1), TraceParent.parse(TRACE).orElseThrow());

    await().atMost(WAIT).until(() -> drainStatusQueue() == 1);
    assertThat(arrived.getFirst().event().jobId()).isEqualTo("00-slot0");
  }

  /**
   * ADR 56: a direct write that fails sends its events to the status queue, and the later events of
   * those attempts follow them there until the attempt's outcome, so none overtakes an earlier one
   * still queued; other attempts, and the next attempt of the same job, are written directly. A
   * sender that kept writing directly after a failure would put the second progress event of the
   * first attempt into the store before its first one was applied, and the store would then drop
   * the first as late; one that gave up after the failure would lose the event.
   */
  @Test
  void anAttemptWhoseDirectWriteFailedKeepsToTheStatusQueueUntilItsOutcome() {
    List<StatusEvent> written = new CopyOnWriteArrayList<>();
    var fails = new java.util.concurrent.atomic.AtomicBoolean(true);
    var statuses =
        new StatusPublisher(
            publisher,
            topology,
            (events, traces) -> {
              if (fails.getAndSet(false)) {
                throw new IllegalStateException("Redis is unreachable (the test's)");
              }
              written.addAll(events);
            },
            Duration.ZERO); // no pause: the next write is tried at once
    closeLast.add(statuses);
    TraceParent trace = TraceParent.parse(TRACE).orElseThrow();

    statuses.publish(progress(0, 1), trace); // the failed write: to the queue
    statuses.publish(progress(1, 1), trace); // another attempt: written
    statuses.publish(progress(0, 2), trace); // the same attempt: to the queue
    var outcome =
        new StatusEvent.Succeeded("00-slot0", "test.plain", 1, 7, 3, "w-0", Instant.now());
    statuses.publish(outcome, trace); // its outcome, to the queue; the attempt is forgotten
    var next =
        new StatusEvent.Progress("00-slot0", "test.plain", 2, 8, 1, "w-0", Instant.now(), 10, null);
    statuses.publish(next, trace); // the job's next attempt: written

    await().atMost(WAIT).until(() -> drainStatusQueue() >= 3);
    assertThat(arrived)
        .extracting(a -> a.event().jobId() + ":" + a.event().attempt() + ":" + a.event().sequence())
        .containsExactly("00-slot0:1:1", "00-slot0:1:2", "00-slot0:1:3");
    assertThat(written)
        .extracting(e -> e.jobId() + ":" + e.attempt() + ":" + e.sequence())
        .containsExactly("00-slot1:1:1", "00-slot0:2:1");
  }

  @Test
  void directWritesLeaveTheStatusQueueEmpty() {
    List<StatusEvent> written = new CopyOnWriteArrayList<>();
    var statuses =
        new StatusPublisher(publisher, topology, (events, traces) -> written.addAll(events));
    closeLast.add(statuses);
    TraceParent trace = TraceParent.parse(TRACE).orElseThrow();
    for (int seq = 1; seq <= EVENTS; seq++) {
      statuses.publish(progress(0, seq), trace);
    }

    assertThat(written).extracting(StatusEvent::sequence).hasSize(EVENTS).isSorted();
    assertThat(drainStatusQueue()).isZero();
  }

  /**
   * After a failed direct write, every event goes to the status queue for the pause, so a frozen
   * Redis costs one command time-out per pause, not one per message; the attempts whose events it
   * carried keep to it until their outcomes (a sender that paused but forgot them would write the
   * second event of the other attempt below directly once the pause is over, ahead of its first).
   */
  @Test
  void afterAFailedDirectWriteTheStatusQueueTakesEveryEventForThePause() {
    List<StatusEvent> written = new CopyOnWriteArrayList<>();
    var tries = new java.util.concurrent.atomic.AtomicInteger();
    var pause = Duration.ofSeconds(1);
    var statuses =
        new StatusPublisher(
            publisher,
            topology,
            (events, traces) -> {
              if (tries.incrementAndGet() == 1) {
                throw new IllegalStateException("Redis is unreachable (the test's)");
              }
              written.addAll(events);
            },
            pause);
    closeLast.add(statuses);
    TraceParent trace = TraceParent.parse(TRACE).orElseThrow();

    long beforeFailure = System.nanoTime();
    statuses.publish(progress(0, 1), trace); // fails: to the queue, and the pause begins
    long afterFailure = System.nanoTime();
    statuses.publish(progress(1, 1), trace); // another attempt, within the pause: to the queue
    boolean withinPause = System.nanoTime() - beforeFailure < pause.toNanos();
    await().atMost(WAIT).until(() -> System.nanoTime() - afterFailure > pause.toNanos());
    statuses.publish(progress(1, 2), trace); // that attempt keeps to the queue
    statuses.publish(progress(2, 1), trace); // a new attempt: written

    await().atMost(WAIT).until(() -> drainStatusQueue() >= 3);
    assertThat(arrived)
        .extracting(a -> a.event().jobId() + ":" + a.event().sequence())
        .containsExactly("00-slot0:1", "00-slot1:1", "00-slot1:2");
    assertThat(written).extracting(StatusEvent::jobId).containsExactly("00-slot2");
    assertThat(tries).as("no write tried within the pause").hasValue(2);
    assertThat(withinPause).as("the test's second event came within the pause").isTrue();
  }
}
