package dev.shepherd.messaging;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.shepherd.testsupport.RabbitCleanup;
import dev.shepherd.testsupport.ServiceEndpoints;
import dev.shepherd.testsupport.TestNames;
import dev.shepherd.testsupport.WithRealServices;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.amqp.core.Message;
import org.springframework.amqp.rabbit.connection.CachingConnectionFactory;
import org.springframework.amqp.rabbit.core.RabbitAdmin;
import org.springframework.amqp.rabbit.listener.SimpleMessageListenerContainer;
import org.springframework.dao.DataAccessResourceFailureException;

/** The batch consumer of {@link Listeners#manualAckBatches} against a real broker. */
@WithRealServices
class ListenersIT {

  private static final int MESSAGES = 60;

  private CachingConnectionFactory connections;
  private Topology topology;
  private ConfirmingPublisher publisher;
  private SimpleMessageListenerContainer container;

  /** Bodies in the order the handler saw them, one entry per call that returned normally. */
  private final List<String> processed = new CopyOnWriteArrayList<>();

  /** Bodies of the deliveries the broker marked as redelivered. */
  private final List<String> redelivered = new CopyOnWriteArrayList<>();

  @BeforeEach
  void declare(ServiceEndpoints endpoints, TestNames names) {
    connections = endpoints.newRabbitConnectionFactory();
    topology = new Topology(names.prefix(), Map.of("default", List.of("demo.noop")), 5);
    RabbitCleanup.declare(connections, topology.declarables());
    publisher = new ConfirmingPublisher(connections, Duration.ofSeconds(5));
  }

  @AfterEach
  void cleanUp() {
    if (container != null) {
      container.stop();
    }
    RabbitCleanup.delete(connections, topology.queueNames(), topology.exchangeNames());
    connections.destroy();
  }

  @Test
  void everyDeliveryOfABatchIsProcessedOnceInOrderAndAcked() {
    publishEvents();
    consume(this::record);

    await().atMost(Duration.ofSeconds(20)).until(() -> processed.size() == MESSAGES);
    assertThat(processed).containsExactlyElementsOf(bodies());
    assertQueueEmptyOnceStopped();
    assertThat(redelivered).isEmpty();
  }

  @Test
  void batchesOfOneAckEveryDeliveryOnItsOwn() {
    publishEvents();
    consume(new Listeners.Batch(1, Duration.ofMillis(20)), this::record);

    await().atMost(Duration.ofSeconds(20)).until(() -> processed.size() == MESSAGES);
    assertThat(processed).containsExactlyElementsOf(bodies());
    assertQueueEmptyOnceStopped();
    assertThat(redelivered).isEmpty();
  }

  @Test
  void aDeliveryWhoseProcessingHasABugGoesBackAloneAndTheRestOfItsBatchIsAcked() {
    publishEvents();
    var failures = new AtomicInteger();
    consume(
        message -> {
          if (body(message).equals("e-7") && failures.getAndIncrement() == 0) {
            throw new IllegalStateException("a bug in processing e-7");
          }
          record(message);
        });

    await().atMost(Duration.ofSeconds(20)).until(() -> processed.size() == MESSAGES);
    assertThat(processed).containsExactlyInAnyOrderElementsOf(bodies());
    assertThat(redelivered).containsExactly("e-7");
    assertQueueEmptyOnceStopped();
  }

  @Test
  void aRedisOutageInTheMiddleOfABatchPausesTheConsumerAndNothingIsRedelivered() {
    publishEvents();
    var failures = new AtomicInteger();
    consume(
        message -> {
          if (body(message).equals("e-30") && failures.getAndIncrement() < 3) {
            throw new DataAccessResourceFailureException("Redis is down");
          }
          record(message);
        });

    await().atMost(Duration.ofSeconds(20)).until(() -> processed.size() == MESSAGES);
    assertThat(failures).hasValue(4);
    assertThat(processed).containsExactlyElementsOf(bodies());
    assertThat(redelivered).isEmpty();
    assertQueueEmptyOnceStopped();
  }

  @Test
  void aBatchProcessedWholeIsAckedWithoutTouchingTheOneAtATimeHandler() {
    publishEvents();
    var oneAtATime = new AtomicInteger();
    var wholeCalls = new AtomicInteger();
    consumeWhole(
        messages -> {
          wholeCalls.incrementAndGet();
          messages.forEach(this::record);
          return List.of();
        },
        message -> oneAtATime.incrementAndGet());

    await().atMost(Duration.ofSeconds(20)).until(() -> processed.size() == MESSAGES);
    assertThat(processed).containsExactlyElementsOf(bodies());
    assertThat(oneAtATime).hasValue(0);
    assertThat(wholeCalls.get()).as("batches, not one call per delivery").isLessThan(MESSAGES);
    assertQueueEmptyOnceStopped();
    assertThat(redelivered).isEmpty();
  }

  @Test
  void aBatchDeclinedOrFailedWholeIsProcessedOneAtATimeAndAckedOnce() {
    publishEvents();
    List<String> fallback = new CopyOnWriteArrayList<>();
    consumeWhole(
        messages -> {
          List<String> bodies = messages.stream().map(ListenersIT::body).toList();
          if (bodies.contains("e-7")) {
            return messages; // as for an unreadable body: nothing done
          }
          if (bodies.contains("e-30")) {
            record(messages.getFirst()); // done in part, then Redis fails
            throw new DataAccessResourceFailureException("Redis is down");
          }
          messages.forEach(this::record);
          return List.of();
        },
        message -> {
          fallback.add(body(message));
          record(message);
        });

    await()
        .atMost(Duration.ofSeconds(20))
        .until(() -> fallback.containsAll(List.of("e-7", "e-30")));
    await().atMost(Duration.ofSeconds(20)).until(() -> processed.containsAll(bodies()));
    assertQueueEmptyOnceStopped();
    assertThat(redelivered).isEmpty();
    // each delivery once, but the first of the failed batch, which the fallback repeats
    assertThat(processed).hasSizeBetween(MESSAGES, MESSAGES + 1);
    assertThat(processed).containsSubsequence(bodies());
  }

  @Test
  void whatAWholeBatchLeftUnprocessedIsProcessedOneAtATimeAndNothingElseTwice() {
    publishEvents();
    List<String> fallback = new CopyOnWriteArrayList<>();
    consumeWhole(
        messages -> {
          // every other delivery is done whole, as when one of two store calls fails
          List<Message> rest = new ArrayList<>();
          for (int i = 0; i < messages.size(); i++) {
            if (i % 2 == 0) {
              record(messages.get(i));
            } else {
              rest.add(messages.get(i));
            }
          }
          return rest;
        },
        message -> {
          fallback.add(body(message));
          record(message);
        });

    await().atMost(Duration.ofSeconds(20)).until(() -> processed.size() >= MESSAGES);
    assertQueueEmptyOnceStopped();
    assertThat(redelivered).isEmpty();
    assertThat(processed).as("each delivery exactly once").hasSize(MESSAGES);
    assertThat(processed).containsExactlyInAnyOrderElementsOf(bodies());
    assertThat(fallback).isNotEmpty().hasSizeLessThan(MESSAGES);
  }

  @Test
  void anIdleConsumerPollsLongAndAGatheringOnePollsForTheBatchsWait() throws Exception {
    var release = new java.util.concurrent.CountDownLatch(1);
    consume(
        message -> {
          try {
            release.await(); // the first batch is held while it is processed
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
          record(message);
        });
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> receiveTimeout() == GatherWaits.IDLE_POLL.toMillis());

    publishEvents();
    await().atMost(Duration.ofSeconds(10)).until(() -> receiveTimeout() == 20);
    release.countDown();

    await().atMost(Duration.ofSeconds(20)).until(() -> processed.size() == MESSAGES);
    assertThat(processed).containsExactlyElementsOf(bodies());
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> receiveTimeout() == GatherWaits.IDLE_POLL.toMillis());
    assertQueueEmptyOnceStopped();
  }

  /** The timeout the container's consumers poll with now (Spring's field: it has no getter). */
  private long receiveTimeout() throws ReflectiveOperationException {
    var field = SimpleMessageListenerContainer.class.getDeclaredField("receiveTimeout");
    field.setAccessible(true);
    return field.getLong(container);
  }

  private void consumeWhole(Listeners.WholeBatch whole, Consumer<Message> handler) {
    container =
        Listeners.manualAckBatches(
            connections,
            topology.statusQueue(),
            50,
            new Listeners.Batch(25, Duration.ofMillis(20)),
            new InfrastructurePause.Backoff(Duration.ofMillis(10), Duration.ofMillis(20)),
            whole,
            handler);
    container.start();
  }

  private void consume(Consumer<Message> handler) {
    consume(new Listeners.Batch(25, Duration.ofMillis(20)), handler);
  }

  private void consume(Listeners.Batch batch, Consumer<Message> handler) {
    container =
        Listeners.manualAckBatches(
            connections,
            topology.statusQueue(),
            50,
            batch,
            new InfrastructurePause.Backoff(Duration.ofMillis(10), Duration.ofMillis(20)),
            handler);
    container.start();
  }

  private void record(Message message) {
    if (Boolean.TRUE.equals(message.getMessageProperties().isRedelivered())) {
      redelivered.add(body(message));
    }
    processed.add(body(message));
  }

  /** One at a time, each confirmed before the next: the queue holds them in this order. */
  private void publishEvents() {
    for (String b : bodies()) {
      publisher.publish(
          new OutgoingMessage(
              topology.statusExchange(),
              topology.statusRoutingKey("demo.noop", "SUCCEEDED"),
              b,
              b.getBytes(StandardCharsets.UTF_8),
              Map.of()));
    }
  }

  /** Stopped, the consumer's channel closes: a delivery not acked would be back in the queue. */
  private void assertQueueEmptyOnceStopped() {
    container.stop();
    var admin = new RabbitAdmin(connections);
    await()
        .atMost(Duration.ofSeconds(10))
        .untilAsserted(
            () -> {
              Properties queue = admin.getQueueProperties(topology.statusQueue());
              assertThat(queue).isNotNull();
              assertThat(((Number) queue.get(RabbitAdmin.QUEUE_MESSAGE_COUNT)).intValue()).isZero();
            });
  }

  private static List<String> bodies() {
    return IntStream.range(0, MESSAGES).mapToObj(i -> "e-" + i).toList();
  }

  private static String body(Message message) {
    return new String(message.getBody(), StandardCharsets.UTF_8);
  }
}
