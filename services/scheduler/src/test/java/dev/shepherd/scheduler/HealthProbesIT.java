package dev.shepherd.scheduler;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.shepherd.messaging.Topology;
import dev.shepherd.model.Json;
import dev.shepherd.testsupport.ManagedProcess;
import dev.shepherd.testsupport.RabbitCleanup;
import dev.shepherd.testsupport.RedisCleanup;
import dev.shepherd.testsupport.ServiceEndpoints;
import dev.shepherd.testsupport.TestNames;
import dev.shepherd.testsupport.WithRealServices;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import tools.jackson.databind.JsonNode;

/**
 * Liveness says the process works; readiness also needs the broker and Redis; a request Redis
 * cannot take is answered 503.
 */
@WithRealServices
class HealthProbesIT {

  private final HttpClient http = HttpClient.newHttpClient();

  private ConfigurableApplicationContext start(Map<String, String> connection, String prefix) {
    Map<String, Object> props = new HashMap<>(connection);
    props.put("server.port", "0");
    props.put("management.server.port", "0");
    props.putAll(dev.shepherd.testsupport.TestApiKeys.adminProperties());
    props.put("shepherd.messaging.prefix", prefix);
    props.put("shepherd.store.prefix", prefix);
    return new SpringApplicationBuilder(SchedulerApplication.class)
        .run(
            props.entrySet().stream()
                .map(e -> "--" + e.getKey() + "=" + e.getValue())
                .toArray(String[]::new));
  }

  private HttpResponse<String> get(ConfigurableApplicationContext app, String path)
      throws Exception {
    URI uri =
        URI.create(
            "http://127.0.0.1:" + app.getEnvironment().getProperty("local.management.port") + path);
    return http.send(
        HttpRequest.newBuilder(uri).GET().build(), HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void withBrokerAndRedisUpBothProbesAreUpAndReadinessNamesThem(
      ServiceEndpoints endpoints, TestNames names) throws Exception {
    try (var app = start(endpoints.asSpringProperties(), names.prefix())) {
      try {
        assertThat(get(app, "/actuator/health/liveness").statusCode()).isEqualTo(200);
        var readiness = get(app, "/actuator/health/readiness");
        assertThat(readiness.statusCode()).isEqualTo(200);
        JsonNode components = Json.mapper().readTree(readiness.body()).path("components");
        assertThat(components.path("rabbit").path("status").asString()).isEqualTo("UP");
        assertThat(components.path("redis").path("status").asString()).isEqualTo("UP");
        JsonNode liveness = Json.mapper().readTree(get(app, "/actuator/health/liveness").body());
        assertThat(liveness.path("components").has("redis")).isFalse();
        // Redis answered the probes; Lettuce's own observation of each command is off
        // (shepherd-defaults.yml): it cost 4 % of a worker's CPU for figures nothing reads
        String metrics = get(app, "/actuator/prometheus").body();
        assertThat(metrics).contains("shepherd_service=").doesNotContain("lettuce");
        // the actuator answers on the management port only, not on the API's (ADR 40)
        URI api =
            URI.create(
                "http://127.0.0.1:"
                    + app.getEnvironment().getProperty("local.server.port")
                    + "/actuator/health");
        assertThat(
                http.send(
                        HttpRequest.newBuilder(api).GET().build(),
                        HttpResponse.BodyHandlers.ofString())
                    .statusCode())
            .isEqualTo(404);
      } finally {
        Topology topology = app.getBean(Topology.class);
        RabbitCleanup.delete(
            app.getBean(org.springframework.amqp.rabbit.connection.ConnectionFactory.class),
            topology.queueNames(),
            topology.exchangeNames());
        RedisCleanup.deleteByPrefix(
            app.getBean(org.springframework.data.redis.connection.RedisConnectionFactory.class),
            names.prefix());
      }
    }
  }

  @Test
  void withRedisGoneTheServiceIsAliveButNotReady(ServiceEndpoints endpoints, TestNames names)
      throws Exception {
    Map<String, String> connection = new HashMap<>(endpoints.asSpringProperties());
    connection.put("spring.data.redis.port", Integer.toString(ManagedProcess.freePort()));
    connection.put("spring.data.redis.timeout", "500ms");
    try (var app = start(connection, names.prefix())) {
      try {
        await()
            .atMost(Duration.ofSeconds(20))
            .untilAsserted(
                () -> {
                  var readiness = get(app, "/actuator/health/readiness");
                  assertThat(readiness.statusCode()).isEqualTo(503);
                  assertThat(
                          Json.mapper()
                              .readTree(readiness.body())
                              .path("components")
                              .path("redis")
                              .path("status")
                              .asString())
                      .isEqualTo("DOWN");
                });
        assertThat(get(app, "/actuator/health/liveness").statusCode()).isEqualTo(200);
        // a submission Redis cannot take now is refused with 503 and a time to come back, as
        // problem+json, not a 500
        URI base =
            URI.create("http://127.0.0.1:" + app.getEnvironment().getProperty("local.server.port"));
        var refused = InProcessScheduler.submitNoop(http, base);
        assertThat(refused.statusCode()).as(refused.body()).isEqualTo(503);
        assertThat(refused.headers().firstValue("Retry-After")).hasValue("1");
        assertThat(refused.headers().firstValue("Content-Type"))
            .hasValueSatisfying(t -> assertThat(t).startsWith("application/problem+json"));
        assertThat(Json.mapper().readTree(refused.body()).path("detail").asString())
            .contains("not accepted");
      } finally {
        Topology topology = app.getBean(Topology.class);
        RabbitCleanup.delete(
            app.getBean(org.springframework.amqp.rabbit.connection.ConnectionFactory.class),
            topology.queueNames(),
            topology.exchangeNames());
      }
    }
  }
}
