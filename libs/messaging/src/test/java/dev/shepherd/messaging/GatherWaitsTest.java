package dev.shepherd.messaging;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.Test;
import org.springframework.amqp.core.Message;
import org.springframework.amqp.core.MessageProperties;

class GatherWaitsTest {

  private final List<Long> set = new CopyOnWriteArrayList<>();
  private final GatherWaits waits =
      new GatherWaits(set::add, Duration.ofMillis(2), Duration.ofMillis(200));
  private final Message delivery = new Message(new byte[0], new MessageProperties());

  private long timeout() {
    return set.getLast();
  }

  @Test
  void pollsLongWhileIdleAndShortFromABatchsFirstDeliveryUntilItsEnd() {
    assertThat(timeout()).isEqualTo(200);
    assertThat(waits.postProcessMessage(delivery)).isSameAs(delivery);
    assertThat(timeout()).isEqualTo(2);
    waits.postProcessMessage(delivery); // the batch's later deliveries change nothing
    assertThat(set).containsExactly(200L, 2L);
    waits.batchEnded();
    assertThat(timeout()).isEqualTo(200);
    waits.batchEnded(); // an end without a gather (a batch of none) changes nothing
    assertThat(set).containsExactly(200L, 2L, 200L);
  }

  @Test
  void staysShortUntilTheLastOfSeveralGatheringConsumersEnds() throws Exception {
    try (var other = Executors.newSingleThreadExecutor()) {
      waits.postProcessMessage(delivery); // this consumer gathers
      other.submit(() -> waits.postProcessMessage(delivery)).get(); // and another one
      waits.batchEnded();
      assertThat(timeout()).as("the other consumer still gathers").isEqualTo(2);
      other.submit(waits::batchEnded).get();
      assertThat(timeout()).isEqualTo(200);
    }
  }

  @Test
  void aConsumerThreadThatEndedMidGatherIsForgottenAtTheNextBatchsEnd() throws Exception {
    var lost = new Thread(() -> waits.postProcessMessage(delivery)); // its channel closed
    lost.start();
    lost.join();
    assertThat(timeout()).isEqualTo(2);
    waits.postProcessMessage(delivery); // the consumer that replaced it
    waits.batchEnded();
    assertThat(timeout()).isEqualTo(200);
  }

  @Test
  void anIdlePollIsNeverShorterThanAGather() {
    var odd = new GatherWaits(set::add, Duration.ofSeconds(1), Duration.ofMillis(200));
    assertThat(timeout()).isEqualTo(1_000);
    odd.postProcessMessage(delivery);
    assertThat(timeout()).isEqualTo(1_000);
  }
}
