package dev.shepherd.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.shepherd.messaging.InfrastructurePause;
import dev.shepherd.testsupport.RabbitCleanup;
import dev.shepherd.testsupport.ServiceEndpoints;
import dev.shepherd.testsupport.TestNames;
import dev.shepherd.testsupport.WithRealServices;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.amqp.core.QueueBuilder;
import org.springframework.amqp.rabbit.connection.CachingConnectionFactory;
import org.springframework.amqp.rabbit.core.RabbitAdmin;
import org.springframework.amqp.rabbit.core.RabbitTemplate;

/**
 * A worker's slots on a real quorum queue: a busy slot holds no delivery besides its job's, which
 * it keeps unacked for the ack hold (a short job costs no new subscription) and acks past it with
 * its consumer cancelled; it subscribes again when its job is over, and again after its connection
 * dropped or its queue was gone for a while; a stop hands back what free slots hold and lets busy
 * ones finish; a close acks what a busy slot still holds.
 */
@WithRealServices
class SlotsIT {

  private static final Duration WAIT = Duration.ofSeconds(15);

  /** The ack hold of the slots under test: long jobs here outlive it, short ones do not. */
  private static final Duration HOLD = Duration.ofMillis(300);

  /**
   * How often the slots under test look for a consumer the broker forgot: short, so that every test
   * here also shows the check leaves a working slot alone.
   */
  private static final Duration CHECK = Duration.ofMillis(300);

  private CachingConnectionFactory rabbit;
  private String queue;
  private Slots slots;
  private final List<String> ran = new CopyOnWriteArrayList<>();
  private final CountDownLatch release = new CountDownLatch(1);

  @BeforeEach
  void setUp(ServiceEndpoints endpoints, TestNames names) {
    rabbit = endpoints.newRabbitConnectionFactory();
    queue = names.unique("slots");
    new RabbitAdmin(rabbit).declareQueue(QueueBuilder.durable(queue).quorum().build());
  }

  @AfterEach
  void tearDown() {
    release.countDown();
    if (slots != null) {
      slots.stopConsuming();
      slots.awaitStopped(Duration.ofSeconds(5));
      slots.close();
    }
    RabbitCleanup.delete(rabbit, List.of(queue), List.of());
    rabbit.destroy();
  }

  @Test
  void aSlotRunningAJobHoldsNoDeliveryAndTakesTheNextOnceTheJobIsOver() {
    start(1, this::claimAndRun);
    publish("long");
    await().atMost(WAIT).until(() -> ran.contains("long started"));
    publish("short");

    // within the hold the unacked delivery takes the consumer's credit; past it the slot cancelled
    // its consumer before the ack: either way the next one stays queued
    await()
        .during(Duration.ofMillis(500))
        .atMost(WAIT)
        .until(() -> ready() == 1 && consumers() == 0 && slots.subscribed() == 0);
    release.countDown();

    await().atMost(WAIT).until(() -> ran.contains("short started"));
    await().atMost(WAIT).until(() -> ready() == 0 && consumers() == 1);
    assertThat(ran).containsExactly("long started", "short started");
  }

  @Test
  void aJobLongerThanTheHoldHasItsDeliveryAckedWhileItStillRuns() {
    start(1, this::claimAndRun);
    publish("long");
    await().atMost(WAIT).until(() -> ran.contains("long started"));
    // past the hold the consumer is cancelled, then the delivery acked
    await().atMost(WAIT).until(() -> consumers() == 0 && slots.subscribed() == 0);

    // An unacked delivery would go back to the queue when its channel closes; an acked one is gone.
    rabbit.resetConnection();
    await().during(Duration.ofMillis(800)).atMost(WAIT).until(() -> ready() == 0);

    release.countDown();
    await().atMost(WAIT).until(() -> consumers() == 1);
    publish("next");
    await().atMost(WAIT).until(() -> ran.contains("next started"));
    assertThat(ran).containsExactly("long started", "next started");
  }

  @Test
  void aShortJobKeepsItsConsumerAndTheSlotTakesTheNextDeliveryWithoutSubscribingAgain() {
    List<String> consumerTags = startRecordingConsumerTags();
    publish("one");
    publish("two");
    publish("three");

    await().atMost(WAIT).until(() -> ran.size() == 3 && ready() == 0);
    // one subscription took all three: acked within the hold, no cancel and no new consume
    assertThat(consumerTags).hasSize(3).containsOnly(consumerTags.get(0));
  }

  @Test
  void aClaimedDeliveryWhoseConnectionDropsWithinTheHoldGoesBackToTheQueueOnce() {
    List<Object> counts = new CopyOnWriteArrayList<>();
    start(
        1,
        Duration.ofSeconds(60),
        held -> {
          counts.add(held.message().getMessageProperties().getHeader("x-delivery-count"));
          claimAndRun(held);
        });
    publish("long");
    await().atMost(WAIT).until(() -> ran.contains("long started"));
    assertThat(consumers()).as("within the hold the consumer stays").isEqualTo(1);

    // what the broker sees when a worker dies mid-job: the unacked delivery is requeued
    rabbit.resetConnection();
    await().atMost(WAIT).until(() -> ready() == 1);

    release.countDown(); // the job ends; its ack fails (channel closed) and the slot goes on
    await().atMost(WAIT).until(() -> ran.size() == 2 && ready() == 0);
    System.out.printf("x-delivery-count of the delivery requeued by the drop: %s%n", counts);
    // the return counts towards the quorum queue's delivery limit, like a give-back (ADR 17)
    assertThat(counts.get(0)).isNull();
    assertThat(counts.get(1)).isIn(1, 1L);
  }

  @Test
  void aCloseWithinTheHoldAcksTheClaimedDeliveryInsteadOfReturningIt() {
    start(1, Duration.ofSeconds(60), this::claimAndRun);
    publish("long");
    await().atMost(WAIT).until(() -> ran.contains("long started"));

    slots.stopConsuming();
    slots.close(); // the drain's grace ran out while the job still runs

    await().during(Duration.ofMillis(800)).atMost(WAIT).until(() -> ready() == 0);
    assertThat(consumers()).isZero();
  }

  @Test
  void aDeliveryGivenBackComesAgainWithItsDeliveryCount() {
    List<Object> counts = new CopyOnWriteArrayList<>();
    start(
        1,
        held -> {
          counts.add(held.message().getMessageProperties().getHeader("x-delivery-count"));
          if (counts.size() == 1) {
            held.giveBack();
          } else {
            held.ack();
          }
        });
    publish("once");

    await().atMost(WAIT).until(() -> counts.size() == 2);
    assertThat(counts.get(1)).isIn(1, 1L);
    await().atMost(WAIT).until(() -> ready() == 0);
  }

  @Test
  void slotsWhoseConnectionDroppedSubscribeAgainAndConsume() {
    start(2, this::claimAndRun);
    await().atMost(WAIT).until(() -> consumers() == 2);

    rabbit.resetConnection(); // closes the connection under every slot's channel

    await().atMost(WAIT).until(() -> consumers() == 2 && slots.subscribed() == 2);
    release.countDown();
    publish("after the drop");
    await().atMost(WAIT).until(() -> ran.contains("after the drop started"));
  }

  @Test
  void aSlotWhoseQueueVanishedKeepsTryingAndConsumesOnceItIsBack() {
    start(1, this::claimAndRun);
    await().atMost(WAIT).until(() -> consumers() == 1);

    // the broker cancels the consumer; each new subscription fails (no queue) and closes its
    // channel
    new RabbitAdmin(rabbit).deleteQueue(queue);
    await().during(Duration.ofMillis(600)).atMost(WAIT).until(() -> slots.subscribed() == 0);
    new RabbitAdmin(rabbit).declareQueue(QueueBuilder.durable(queue).quorum().build());

    await().atMost(WAIT).until(() -> consumers() == 1);
    publish("after the queue came back");
    await().atMost(WAIT).until(() -> ran.contains("after the queue came back started"));
  }

  @Test
  void aStopLeavesQueuedDeliveriesInTheQueueAndLetsTheBusySlotFinish() {
    start(2, this::claimAndRun);
    await().atMost(WAIT).until(() -> consumers() == 2);
    publish("long");
    await().atMost(WAIT).until(() -> ran.contains("long started"));

    slots.stopConsuming();
    await().atMost(WAIT).until(() -> consumers() == 0);
    publish("after the stop");

    assertThat(slots.awaitStopped(Duration.ofMillis(300))).as("the busy slot still runs").isFalse();
    release.countDown();
    assertThat(slots.awaitStopped(WAIT)).isTrue();
    assertThat(ready()).isEqualTo(1);
    assertThat(ran).containsExactly("long started");
  }

  @Test
  void aFreeSlotWhoseConsumerTheBrokerForgotSubscribesAgainAndTakesWhatWaits() throws Exception {
    List<String> consumerTags = startRecordingConsumerTags();
    publish("one");
    await().atMost(WAIT).until(() -> ran.contains("one started") && ready() == 0);

    // what RabbitMQ 3.10 did once after a quorum queue's leader died: the queue has no consumer
    // left, while the slot's channel stays open and nothing tells the slot
    slots.channelOf(0).basicCancel(consumerTags.getFirst());
    await().atMost(WAIT).until(() -> consumers() == 0);
    assertThat(slots.subscribed()).as("the slot still counts itself subscribed").isOne();
    publish("two");

    await().atMost(WAIT).until(() -> ran.contains("two started"));
    assertThat(consumerTags).hasSize(2).doesNotHaveDuplicates();
    await().atMost(WAIT).until(() -> ready() == 0 && consumers() == 1);
  }

  @Test
  void aFreeSlotOnAnEmptyQueueKeepsItsConsumerThroughManyChecks() {
    List<String> consumerTags = startRecordingConsumerTags();
    publish("one");
    await().atMost(WAIT).until(() -> ran.contains("one started") && ready() == 0);

    // five checks with the slot idle and nothing ready: none of them may touch it
    await()
        .during(CHECK.multipliedBy(5))
        .atMost(WAIT)
        .until(() -> consumers() == 1 && slots.subscribed() == 1);
    publish("two");

    await().atMost(WAIT).until(() -> ran.contains("two started"));
    assertThat(consumerTags).as("one subscription took both").containsOnly(consumerTags.get(0));
  }

  // ---- fixtures ------------------------------------------------------------------------------

  /** Claims every delivery and runs it; a job named "long" runs until the test releases it. */
  private void claimAndRun(Slots.Held held) {
    String name = new String(held.message().getBody(), StandardCharsets.UTF_8);
    held.claimed();
    ran.add(name + " started");
    if (name.equals("long")) {
      try {
        release.await(WAIT.toSeconds(), TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  /** One slot that claims and runs every delivery; returns the consumer tags they came with. */
  private List<String> startRecordingConsumerTags() {
    List<String> consumerTags = new CopyOnWriteArrayList<>();
    start(
        1,
        held -> {
          consumerTags.add(held.message().getMessageProperties().getConsumerTag());
          claimAndRun(held);
        });
    return consumerTags;
  }

  private void start(int capacity, Consumer<Slots.Held> work) {
    start(capacity, HOLD, work);
  }

  private void start(int capacity, Duration hold, Consumer<Slots.Held> work) {
    slots =
        new Slots(
            rabbit,
            queue,
            List.of(),
            capacity,
            "test-slot",
            hold,
            work,
            new InfrastructurePause.Backoff(Duration.ofMillis(50), Duration.ofMillis(500)),
            CHECK);
    slots.start();
  }

  private void publish(String body) {
    new RabbitTemplate(rabbit).convertAndSend("", queue, body);
  }

  private long ready() {
    return RabbitCleanup.messageCount(rabbit, queue);
  }

  private long consumers() {
    return new RabbitTemplate(rabbit)
        .execute(channel -> (long) channel.queueDeclarePassive(queue).getConsumerCount());
  }
}
