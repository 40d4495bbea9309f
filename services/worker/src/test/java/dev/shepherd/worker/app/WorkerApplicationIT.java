package dev.shepherd.worker.app;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.shepherd.messaging.ConfirmingPublisher;
import dev.shepherd.messaging.OutgoingMessage;
import dev.shepherd.messaging.Topology;
import dev.shepherd.model.JobState;
import dev.shepherd.model.Json;
import dev.shepherd.model.WorkMessage;
import dev.shepherd.store.DueEntry;
import dev.shepherd.store.NewJob;
import dev.shepherd.store.Store;
import dev.shepherd.store.WorkerRegistry;
import dev.shepherd.testsupport.RabbitCleanup;
import dev.shepherd.testsupport.RedisCleanup;
import dev.shepherd.testsupport.ServiceEndpoints;
import dev.shepherd.testsupport.TestNames;
import dev.shepherd.testsupport.WithRealServices;
import dev.shepherd.worker.JobHandler;
import dev.shepherd.worker.WorkerRuntime;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.springframework.amqp.rabbit.connection.ConnectionFactory;
import org.springframework.amqp.rabbit.core.RabbitTemplate;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;

/** The worker service starts against the real broker and Redis, with every demo handler. */
@WithRealServices
class WorkerApplicationIT {

  private static ConfigurableApplicationContext start(ServiceEndpoints endpoints, String prefix) {
    return start(endpoints, prefix, Map.of());
  }

  private static ConfigurableApplicationContext start(
      ServiceEndpoints endpoints, String prefix, Map<String, String> more) {
    Map<String, String> props = new HashMap<>(endpoints.asSpringProperties());
    props.putAll(more);
    props.put("server.port", "0");
    props.put("shepherd.messaging.prefix", prefix);
    props.put("shepherd.store.prefix", prefix);
    props.put("shepherd.worker.id", "app-it-worker");
    return new SpringApplicationBuilder(WorkerApplication.class)
        .run(
            props.entrySet().stream()
                .map(e -> "--" + e.getKey() + "=" + e.getValue())
                .toArray(String[]::new));
  }

  @Test
  void theServiceStartsWithTheDemoHandlersAndRunsAJob(ServiceEndpoints endpoints, TestNames names) {
    var app = start(endpoints, names.prefix());
    Topology topology = app.getBean(Topology.class);
    WorkerRuntime runtime = app.getBean(WorkerRuntime.class);
    try {
      assertThat(app.getBeansOfType(JobHandler.class).values())
          .extracting(JobHandler::type)
          .containsExactlyInAnyOrder("site.generate", "demo.flaky", "demo.poison", "demo.noop");
      assertThat(runtime.jobTypes())
          .containsExactlyInAnyOrder("site.generate", "demo.flaky", "demo.poison", "demo.noop");
      assertThat(runtime.settings().workerId()).isEqualTo("app-it-worker");
      assertThat(runtime.settings().capacity()).isEqualTo(4);
      assertThat(runtime.settings().leaseTtl()).isEqualTo(Duration.ofSeconds(30));
      // Lettuce would wait 60 s for a reply: longer than the lease a renewal is meant to keep
      assertThat(
              app.getBean(
                      org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory
                          .class)
                  .getClientConfiguration()
                  .getCommandTimeout())
          .isEqualTo(Duration.ofMillis(7_500));
      await().atMost(Duration.ofSeconds(10)).until(runtime::isRunning);
      assertThat(app.getBean(WorkerRegistry.class).find("app-it-worker")).isPresent();

      String jobId = dispatch(app, "demo.noop");

      // the worker writes the outcome into the store itself (ADR 56), and sends nothing to the
      // status queue
      Store store = app.getBean("shepherdStore", Store.class);
      await()
          .atMost(Duration.ofSeconds(15))
          .until(() -> store.queries().find(jobId).orElseThrow().state() == JobState.SUCCEEDED);
      assertThat(
              new RabbitTemplate(app.getBean(ConnectionFactory.class))
                  .receive(topology.statusQueue()))
          .isNull();
    } finally {
      app.close();
      var rabbit = endpoints.newRabbitConnectionFactory();
      var redis = endpoints.newRedisConnectionFactory();
      RabbitCleanup.delete(rabbit, topology.queueNames(), topology.exchangeNames());
      RedisCleanup.deleteByPrefix(redis, names.prefix());
      rabbit.destroy();
      redis.destroy();
    }
    assertThat(runtime.isRunning()).isFalse();
  }

  @Test
  void aJobTypeConfiguredWithADistributorIsRunAlongTheHandlersAndAnnounced(
      ServiceEndpoints endpoints, TestNames names) {
    var app =
        start(
            endpoints,
            names.prefix(),
            Map.of(
                "shepherd.distribution.server-key", "k".repeat(32),
                "shepherd.distribution.callback-url", "http://scheduler:8080",
                "shepherd.distribution.types[report.render].distributor", "http",
                "shepherd.distribution.types[report.render].max-attempts", "7",
                "shepherd.distribution.types[report.render].settings.endpoint",
                    "http://renderer:8080/tasks"));
    Topology topology = app.getBean(Topology.class);
    try {
      WorkerRuntime runtime = app.getBean(WorkerRuntime.class);
      assertThat(runtime.jobTypes())
          .containsExactlyInAnyOrder(
              "site.generate", "demo.flaky", "demo.poison", "demo.noop", "report.render");
      await()
          .atMost(Duration.ofSeconds(10))
          .untilAsserted(
              () ->
                  assertThat(app.getBean(WorkerRegistry.class).jobTypes().find("report.render"))
                      .hasValueSatisfying(
                          announced -> {
                            assertThat(announced.maxAttempts()).isEqualTo(7);
                            assertThat(announced.payloadSchema().get("type").asString())
                                .isEqualTo("object");
                          }));
    } finally {
      app.close();
      var rabbit = endpoints.newRabbitConnectionFactory();
      var redis = endpoints.newRedisConnectionFactory();
      RabbitCleanup.delete(rabbit, topology.queueNames(), topology.exchangeNames());
      RedisCleanup.deleteByPrefix(redis, names.prefix());
      rabbit.destroy();
      redis.destroy();
    }
  }

  @Test
  void aWrongDistributorSettingFailsTheStartNamingTheTypeAndTheSetting(
      ServiceEndpoints endpoints, TestNames names) {
    try {
      assertThatThrownBy(
              () ->
                  start(
                      endpoints,
                      names.prefix(),
                      Map.of(
                          "shepherd.distribution.callback-url", "http://scheduler:8080",
                          "shepherd.distribution.types[report.render].distributor", "http",
                          "shepherd.distribution.types[report.render].settings.endpoint",
                              "renderer:8080/tasks",
                          "shepherd.distribution.types[report.render].settings.timeToRun",
                              "10 minutes")))
          .rootCause()
          .hasMessageContaining("3 problems")
          .hasMessageContaining("shepherd.distribution.server-key is required")
          .hasMessageContaining("job type 'report.render': endpoint must be an absolute http")
          .hasMessageContaining("job type 'report.render': timeToRun must be a positive ISO-8601");
    } finally {
      var redis = endpoints.newRedisConnectionFactory();
      RedisCleanup.deleteByPrefix(redis, names.prefix());
      redis.destroy();
    }
  }

  /**
   * A kubernetes-job type's settings are checked by the kubernetes-job distributor, which the
   * worker builds because a type names it: were it not registered, the start would fail naming an
   * unknown distributor instead.
   */
  @Test
  void aKubernetesJobTypeIsCheckedByTheKubernetesDistributorTheWorkerBuildsForIt(
      ServiceEndpoints endpoints, TestNames names) {
    try {
      assertThatThrownBy(
              () ->
                  start(
                      endpoints,
                      names.prefix(),
                      Map.of(
                          "shepherd.distribution.server-key", "k".repeat(32),
                          "shepherd.distribution.callback-url", "http://scheduler:8080",
                          "shepherd.distribution.types[report.batch].distributor", "kubernetes-job",
                          "shepherd.distribution.types[report.batch].settings.image", "renderer:1",
                          "shepherd.distribution.types[report.batch].settings.cpu", "lots")))
          .rootCause()
          .hasMessageContaining("2 problems")
          .hasMessageContaining("job type 'report.batch': namespace is required")
          .hasMessageContaining("job type 'report.batch': cpu must be a positive Kubernetes");
    } finally {
      var redis = endpoints.newRedisConnectionFactory();
      RedisCleanup.deleteByPrefix(redis, names.prefix());
      redis.destroy();
    }
  }

  /** Stores a job and publishes its work message the way the scheduler's dispatcher does. */
  private static String dispatch(ConfigurableApplicationContext app, String type) {
    Store store = app.getBean("shepherdStore", Store.class);
    Topology topology = app.getBean(Topology.class);
    String id =
        store.submissions().submit(new NewJob(type, "default", "{}", null, null, 3)).jobId();
    int partition = store.keys().partitionOf(id);
    DueEntry entry =
        store.outbox().reserveDue(partition, 10, Duration.ofSeconds(30)).stream()
            .filter(e -> e.jobId().equals(id))
            .findFirst()
            .orElseThrow();
    var work =
        new WorkMessage(
            id, type, entry.attempt(), Json.mapper().readTree("{}"), entry.submittedAt());
    app.getBean(ConfirmingPublisher.class)
        .publish(
            new OutgoingMessage(
                topology.workExchange(),
                type,
                id + ":" + entry.attempt(),
                Json.mapper().writeValueAsBytes(work),
                Map.of()));
    store.outbox().markDispatched(partition, List.of(entry));
    return id;
  }
}
