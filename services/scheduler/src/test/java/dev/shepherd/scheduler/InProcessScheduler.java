package dev.shepherd.scheduler;

import static org.assertj.core.api.Assertions.assertThat;

import dev.shepherd.messaging.Topology;
import dev.shepherd.model.Json;
import dev.shepherd.testsupport.RabbitCleanup;
import dev.shepherd.testsupport.RedisCleanup;
import dev.shepherd.testsupport.TestApiKeys;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.LinkedHashMap;
import java.util.Map;
import org.springframework.amqp.rabbit.connection.ConnectionFactory;
import org.springframework.amqp.rabbit.listener.SimpleMessageListenerContainer;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.data.redis.connection.RedisConnectionFactory;

/**
 * A scheduler started in the test's JVM on a free port, with the test's name prefix for its
 * exchanges, queues and keys and the tests' administrator key (ADR 40); closing it stops its
 * listeners, deletes what it declared and wrote, and stops it.
 */
final class InProcessScheduler implements AutoCloseable {

  private final ConfigurableApplicationContext app;
  private final String prefix;
  private final URI base;

  private InProcessScheduler(ConfigurableApplicationContext app, String prefix) {
    this.app = app;
    this.prefix = prefix;
    this.base =
        URI.create("http://127.0.0.1:" + app.getEnvironment().getProperty("local.server.port"));
  }

  /**
   * @param connection the broker's and Redis's Spring properties
   * @param more more properties, applied last (they may replace the administrator's)
   */
  static InProcessScheduler start(
      Map<String, String> connection, String prefix, Map<String, ?> more) {
    Map<String, Object> props = new LinkedHashMap<>(connection);
    props.put("server.port", "0");
    props.put("management.server.port", "0");
    props.put("shepherd.messaging.prefix", prefix);
    props.put("shepherd.store.prefix", prefix);
    props.putAll(TestApiKeys.adminProperties());
    props.putAll(more);
    return new InProcessScheduler(
        new SpringApplicationBuilder(SchedulerApplication.class).run(arguments(props)), prefix);
  }

  /** Spring's command-line form of {@code props}. */
  static String[] arguments(Map<String, ?> props) {
    return props.entrySet().stream()
        .map(e -> "--" + e.getKey() + "=" + e.getValue())
        .toArray(String[]::new);
  }

  ConfigurableApplicationContext app() {
    return app;
  }

  URI base() {
    return base;
  }

  @Override
  public void close() {
    app.getBeansOfType(SimpleMessageListenerContainer.class).values().forEach(c -> c.stop());
    Topology topology = app.getBean(Topology.class);
    RabbitCleanup.delete(
        app.getBean(ConnectionFactory.class), topology.queueNames(), topology.exchangeNames());
    RedisCleanup.deleteByPrefix(app.getBean(RedisConnectionFactory.class), prefix);
    app.close();
  }

  /** Submits a no-op job as the tests' administrator to the scheduler at {@code base}. */
  static HttpResponse<String> submitNoop(HttpClient http, URI base) throws Exception {
    return http.send(
        HttpRequest.newBuilder(base.resolve("/api/v1/jobs"))
            .header("X-Api-Key", TestApiKeys.ADMIN_KEY)
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString("{\"type\":\"demo.noop\",\"payload\":{}}"))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  /** A problem+json answer of {@code status} whose text names {@code named}. */
  static void assertProblem(HttpResponse<String> response, int status, String named) {
    assertThat(response.statusCode()).as(response.body()).isEqualTo(status);
    assertThat(response.headers().firstValue("Content-Type"))
        .hasValueSatisfying(v -> assertThat(v).startsWith("application/problem+json"));
    assertThat(Json.mapper().readTree(response.body()).path("status").asInt()).isEqualTo(status);
    assertThat(response.body()).contains(named);
  }
}
