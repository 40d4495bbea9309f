package dev.shepherd.worker.boot;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.example.resize.ResizeWorker;
import dev.shepherd.messaging.ConfirmingPublisher;
import dev.shepherd.messaging.OutgoingMessage;
import dev.shepherd.messaging.Topology;
import dev.shepherd.model.JobState;
import dev.shepherd.model.Json;
import dev.shepherd.model.WorkMessage;
import dev.shepherd.store.DueEntry;
import dev.shepherd.store.NewJob;
import dev.shepherd.store.Store;
import dev.shepherd.testsupport.RabbitCleanup;
import dev.shepherd.testsupport.RedisCleanup;
import dev.shepherd.testsupport.ServiceEndpoints;
import dev.shepherd.testsupport.TestNames;
import dev.shepherd.testsupport.WithRealServices;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.springframework.amqp.rabbit.core.RabbitTemplate;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.data.redis.connection.RedisConnectionFactory;

/**
 * A worker made of the starter and one handler bean (issue 18, item 2): it claims a job, runs it
 * and records its outcome (ADR 56), with no Shepherd setting of its own beyond where RabbitMQ and
 * Redis are and its pool; and one that turns publisher confirms off does not start, saying which
 * setting to change.
 */
@WithRealServices
class StarterWorkerIT {

  private static String[] args(ServiceEndpoints endpoints, String prefix, String... more) {
    List<String> args = new ArrayList<>();
    endpoints.asSpringProperties().forEach((k, v) -> args.add("--" + k + "=" + v));
    args.add("--shepherd.messaging.prefix=" + prefix);
    args.add("--shepherd.store.prefix=" + prefix);
    args.add("--shepherd.worker.pool=images");
    args.add("--shepherd.messaging.pools.images=example.resize");
    args.addAll(List.of(more));
    return args.toArray(String[]::new);
  }

  @Test
  void aWorkerOfTheStarterAndOneHandlerRunsAJobAndRecordsItsOutcome(
      ServiceEndpoints endpoints, TestNames names) {
    ConfigurableApplicationContext app =
        new SpringApplicationBuilder(ResizeWorker.class)
            .web(WebApplicationType.NONE)
            .run(args(endpoints, names.prefix()));
    Topology topology = app.getBean(Topology.class);
    try {
      Store store = app.getBean("shepherdStore", Store.class);
      String id =
          store
              .submissions()
              .submit(
                  new NewJob(
                      "example.resize",
                      "images",
                      "{\"image\":\"cat.png\",\"width\":64}",
                      null,
                      null,
                      3))
              .jobId();
      int partition = store.keys().partitionOf(id);
      DueEntry entry =
          store.outbox().reserveDue(partition, 10, Duration.ofSeconds(30)).stream()
              .filter(e -> e.jobId().equals(id))
              .findFirst()
              .orElseThrow();
      var work =
          new WorkMessage(
              id,
              entry.type(),
              entry.attempt(),
              Json.mapper().readTree(entry.payloadJson()),
              entry.submittedAt());
      app.getBean(ConfirmingPublisher.class)
          .publish(
              new OutgoingMessage(
                  topology.workExchange(),
                  "example.resize",
                  id + ":1",
                  Json.mapper().writeValueAsBytes(work),
                  Map.of()));
      store.outbox().markDispatched(partition, List.of(entry));

      // the worker writes its outcome into the store itself (ADR 56): the job ends there, and
      // nothing waits in the status queue for a status-tracker
      await()
          .atMost(Duration.ofSeconds(30))
          .until(() -> store.queries().find(id).orElseThrow().state() == JobState.SUCCEEDED);
      var rabbit =
          new RabbitTemplate(
              app.getBean(org.springframework.amqp.rabbit.connection.ConnectionFactory.class));
      assertThat(rabbit.receive(topology.statusQueue())).isNull();
      assertThat(ResizeWorker.RESIZED).contains("cat.png@64");
    } finally {
      RabbitCleanup.delete(
          app.getBean(org.springframework.amqp.rabbit.connection.ConnectionFactory.class),
          topology.queueNames(),
          topology.exchangeNames());
      RedisCleanup.deleteByPrefix(app.getBean(RedisConnectionFactory.class), names.prefix());
      app.close();
    }
  }

  @Test
  void aWorkerWithPublisherConfirmsTurnedOffDoesNotStartAndSaysWhichSetting(
      ServiceEndpoints endpoints, TestNames names) {
    assertThatThrownBy(
            () ->
                new SpringApplicationBuilder(ResizeWorker.class)
                    .web(WebApplicationType.NONE)
                    .run(
                        args(
                            endpoints,
                            names.prefix(),
                            "--spring.rabbitmq.publisher-confirm-type=none")))
        .rootCause()
        .hasMessageContaining("spring.rabbitmq.publisher-confirm-type=correlated");
  }
}
