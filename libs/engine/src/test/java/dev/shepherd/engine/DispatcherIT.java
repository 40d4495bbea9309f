package dev.shepherd.engine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.shepherd.engine.dispatch.Dispatcher;
import dev.shepherd.model.JobState;
import dev.shepherd.model.Json;
import dev.shepherd.model.WorkMessage;
import dev.shepherd.store.DueEntry;
import dev.shepherd.store.NewJob;
import dev.shepherd.testsupport.ServiceEndpoints;
import dev.shepherd.testsupport.TestNames;
import dev.shepherd.testsupport.WithRealServices;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.amqp.core.Message;
import org.springframework.amqp.rabbit.core.RabbitTemplate;

@WithRealServices
class DispatcherIT {

  private EngineFixture fixture;

  @BeforeEach
  void setUp(ServiceEndpoints endpoints, TestNames names) {
    fixture = new EngineFixture(endpoints, names);
  }

  @AfterEach
  void tearDown() {
    fixture.close();
  }

  private Dispatcher dispatcher() {
    return new Dispatcher(
        fixture.store,
        fixture.topology,
        fixture.publisher,
        7,
        Duration.ofSeconds(30),
        new io.micrometer.core.instrument.simple.SimpleMeterRegistry());
  }

  @Test
  void dueJobsArePublishedOnceAndLeaveTheOutboxAfterTheirConfirm() {
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < 40; i++) {
      ids.add(
          fixture
              .store
              .submit(new NewJob("demo.noop", "default", "{\"i\":" + i + "}", null, null, 3))
              .jobId());
    }
    Dispatcher dispatcher = dispatcher();
    int published = 0;
    for (int pass = 0; pass < 10 && published < 40; pass++) {
      published += dispatcher.dispatchOnce();
    }
    assertThat(published).isEqualTo(40);
    assertThat(dispatcher.dispatchOnce()).isZero();
    assertThat(fixture.store.outboxSize()).isZero();
    assertThat(ids)
        .allSatisfy(
            id ->
                assertThat(fixture.store.find(id).orElseThrow().state())
                    .isEqualTo(JobState.QUEUED));

    var template = new RabbitTemplate(fixture.rabbitConnections);
    Set<String> received = new HashSet<>();
    Message m;
    while ((m = template.receive(fixture.topology.workQueue("default"), 2_000)) != null) {
      WorkMessage work = Json.mapper().readValue(m.getBody(), WorkMessage.class);
      assertThat(work.attempt()).isEqualTo(1);
      assertThat(received.add(work.jobId())).as("published twice: " + work.jobId()).isTrue();
    }
    assertThat(received).containsExactlyInAnyOrderElementsOf(ids);
  }

  @Test
  void twoSchedulersDispatchingAtOnceNeverPublishAJobTwice() throws Exception {
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < 200; i++) {
      ids.add(
          fixture
              .store
              .submit(new NewJob("demo.noop", "default", "{\"i\":" + i + "}", null, null, 3))
              .jobId());
    }
    List<Dispatcher> schedulers = List.of(dispatcher(), dispatcher());
    var start = new java.util.concurrent.CountDownLatch(1);
    var pool = java.util.concurrent.Executors.newFixedThreadPool(2);
    try {
      List<java.util.concurrent.Future<Integer>> counts = new ArrayList<>();
      for (Dispatcher d : schedulers) {
        counts.add(
            pool.submit(
                () -> {
                  start.await();
                  int published = 0;
                  for (int pass = 0; pass < 100 && fixture.store.outboxSize() > 0; pass++) {
                    published += d.dispatchOnce();
                  }
                  return published;
                }));
      }
      start.countDown();
      int first = counts.get(0).get();
      int second = counts.get(1).get();
      assertThat(first + second).isEqualTo(200);
      assertThat(fixture.store.outboxSize()).isZero();
    } finally {
      pool.shutdownNow();
    }

    var template = new RabbitTemplate(fixture.rabbitConnections);
    List<String> received = new ArrayList<>();
    Message m;
    while ((m = template.receive(fixture.topology.workQueue("default"), 2_000)) != null) {
      received.add(Json.mapper().readValue(m.getBody(), WorkMessage.class).jobId());
    }
    assertThat(received).doesNotHaveDuplicates().containsExactlyInAnyOrderElementsOf(ids);
  }

  @Test
  void theWorkMessageCarriesTheJobsTraceAsAChildContext() {
    String trace = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    fixture.store.submit(new NewJob("demo.noop", "default", "{}", null, null, 3, trace));
    assertThat(dispatcher().dispatchOnce()).isEqualTo(1);
    Message m =
        new RabbitTemplate(fixture.rabbitConnections)
            .receive(fixture.topology.workQueue("default"), 5_000);
    String header = (String) m.getMessageProperties().getHeader("traceparent");
    assertThat(header)
        .startsWith("00-4bf92f3577b34da6a3ce929d0e0e4736-")
        .doesNotContain("00f067aa0ba902b7");
  }

  @Test
  void aDelayedJobIsPublishedOnlyOnceItsTimeCame() {
    var job =
        fixture.store.submit(
            new NewJob(
                "demo.noop", "default", "{}", null, fixture.clock.instant().plusSeconds(30), 3));
    assertThat(dispatcher().dispatchOnce()).isZero();
    assertThat(fixture.store.find(job.jobId()).orElseThrow().state()).isEqualTo(JobState.SCHEDULED);
    fixture.clock.advance(Duration.ofSeconds(31));
    assertThat(dispatcher().dispatchOnce()).isEqualTo(1);
    assertThat(fixture.messagesIn(fixture.topology.workQueue("default"))).isEqualTo(1);
  }

  @Test
  void anEntryWhosePublishIsNotConfirmedStaysInTheOutboxAndIsTriedAgainWithinASecond() {
    // No pool consumes this type: the broker returns the message as unroutable.
    String id =
        fixture.store.submit(new NewJob("unrouted.type", "nowhere", "{}", null, null, 3)).jobId();
    assertThat(dispatcher().dispatchOnce()).isZero();
    assertThat(fixture.store.outboxSize()).isEqualTo(1);

    // Not reserved for the whole visibility (30 s) as a crashed dispatcher's entry would be.
    int partition = fixture.store.partitionOf(id);
    assertThat(fixture.store.reserveDue(partition, 10, Duration.ofSeconds(30))).isEmpty();
    fixture.clock.advance(Dispatcher.RETRY_UNCONFIRMED);
    assertThat(fixture.store.reserveDue(partition, 10, Duration.ofSeconds(30)))
        .extracting(DueEntry::jobId)
        .containsExactly(id);
  }
}
