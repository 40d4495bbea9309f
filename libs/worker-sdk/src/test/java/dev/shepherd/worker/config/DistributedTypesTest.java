package dev.shepherd.worker.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.shepherd.distribution.AttemptRequest;
import dev.shepherd.distribution.Distributor;
import dev.shepherd.distribution.DistributorConfig;
import dev.shepherd.distribution.InvalidDistributorConfigException;
import dev.shepherd.distribution.Notification;
import dev.shepherd.distribution.Started;
import dev.shepherd.distribution.TaskStatus;
import dev.shepherd.distribution.TaskToken;
import dev.shepherd.model.StatusEvent;
import dev.shepherd.worker.DistributedHandler;
import dev.shepherd.worker.RemoteReports;
import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.context.properties.source.MapConfigurationPropertySource;

class DistributedTypesTest {

  /** Distributors for the registry tests: each requires one setting, {@code namespace}. */
  private static final class Fixtures {
    static Distributor named(String name) {
      return new Distributor() {
        @Override
        public String name() {
          return name;
        }

        @Override
        public void validate(String type, DistributorConfig config) {
          if (config.setting("namespace") == null) {
            throw new InvalidDistributorConfigException(type, "namespace", "is required");
          }
        }

        @Override
        public Started run(AttemptRequest attempt) {
          throw new UnsupportedOperationException();
        }

        @Override
        public void cancel(AttemptRequest attempt, TaskToken token) {}

        @Override
        public TaskStatus status(AttemptRequest attempt, TaskToken token) {
          return new TaskStatus.Running();
        }

        @Override
        public Optional<URI> infoUrl(AttemptRequest attempt, TaskToken token) {
          return Optional.empty();
        }

        @Override
        public List<StatusEvent> handleNotification(
            AttemptRequest attempt, TaskToken token, Notification notification) {
          return List.of();
        }
      };
    }
  }

  private static final String KEY = "k".repeat(32);
  private static final URI CALLBACK = URI.create("http://scheduler:8080");

  private static DistributionProperties bind(Map<String, String> properties) {
    return new Binder(new MapConfigurationPropertySource(properties))
        .bindOrCreate("shepherd.distribution", DistributionProperties.class);
  }

  private static List<DistributedHandler> handlers(DistributionProperties properties) {
    return DistributedTypes.handlers(
        properties, new RemoteReports(), DistributedTypes.httpClient(), Clock.systemUTC());
  }

  private static DistributionProperties.TypeProperties http(Map<String, String> settings) {
    return new DistributionProperties.TypeProperties("http", settings, null);
  }

  /**
   * The Helm chart hands a pool's types to its workers as {@code SPRING_APPLICATION_JSON}, each
   * type name in brackets so its dots stay (helm/shepherd/templates/workers.yaml): they bind as the
   * YAML form does.
   */
  @Test
  void typesGivenAsTheChartsSpringApplicationJsonBindWithTheirDots() {
    var env = new org.springframework.core.env.StandardEnvironment();
    env.getPropertySources()
        .addFirst(
            new org.springframework.core.env.MapPropertySource(
                "test",
                Map.of(
                    "spring.application.json",
                    "{\"shepherd\":{\"distribution\":{\"callback-url\":\"http://s:8080\","
                        + "\"types\":{\"[report.render]\":{\"distributor\":\"http\","
                        + "\"maxAttempts\":3,\"settings\":{\"endpoint\":\"http://r/render\","
                        + "\"statusUrl\":\"http://r/render/{task}\"}}}}}}")));
    new org.springframework.boot.support.SpringApplicationJsonEnvironmentPostProcessor()
        .postProcessEnvironment(env, new org.springframework.boot.SpringApplication());

    var properties =
        Binder.get(env).bind("shepherd.distribution", DistributionProperties.class).get();

    assertThat(properties.callbackUrl()).hasToString("http://s:8080");
    var render = properties.types().get("report.render");
    assertThat(render.distributor()).isEqualTo("http");
    assertThat(render.maxAttempts()).isEqualTo(3);
    assertThat(render.settings())
        .containsEntry("endpoint", "http://r/render")
        .containsEntry("statusUrl", "http://r/render/{task}");
  }

  @Test
  void withoutTypesNothingIsBuiltAndNoKeyIsNeeded() {
    assertThat(handlers(bind(Map.of()))).isEmpty();
    assertThat(handlers(DistributionProperties.none())).isEmpty();
  }

  @Test
  void aTypeOnWorkerPoolRunsOnThePoolsOwnHandlersAndTakesNoSettings() {
    // no server key, no callback URL: nothing is distributed elsewhere
    assertThat(
            handlers(
                bind(Map.of("shepherd.distribution.types[demo.noop].distributor", "worker-pool"))))
        .isEmpty();

    assertThatThrownBy(
            () ->
                handlers(
                    bind(
                        Map.of(
                            "shepherd.distribution.types[demo.noop].distributor",
                            "worker-pool",
                            "shepherd.distribution.types[demo.noop].settings.pool",
                            "fast"))))
        .isInstanceOf(IllegalStateException.class)
        .hasMessage(
            "shepherd.distribution cannot be used, 1 problem: job type 'demo.noop': settings worker-pool"
                + " takes none (the topology names a type's pool), was [pool]");
  }

  @Test
  void eachConfiguredTypeBecomesAHandlerWithItsSnapshotAndAttempts() {
    var properties =
        bind(
            Map.of(
                "shepherd.distribution.server-key", KEY,
                "shepherd.distribution.callback-url", "http://scheduler:8080",
                "shepherd.distribution.types[report.render].distributor", "http",
                "shepherd.distribution.types[report.render].max-attempts", "5",
                "shepherd.distribution.types[report.render].settings.endpoint",
                    "http://renderer:8080/tasks",
                "shepherd.distribution.types[report.render].settings.timeToRun", "PT10M",
                "shepherd.distribution.types[report.render].settings.time-to-start", "PT1M"));

    assertThat(handlers(properties))
        .singleElement()
        .satisfies(
            h -> {
              assertThat(h.type()).isEqualTo("report.render");
              assertThat(h.maxAttempts()).isEqualTo(5);
              assertThat(h.payloadType().getSimpleName()).isEqualTo("JsonNode");
              assertThat(h.payloadSchema().get("type").asString()).isEqualTo("object");
              assertThat(h.config().distributor()).isEqualTo("http");
              assertThat(h.config().settings())
                  .containsExactlyInAnyOrderEntriesOf(
                      Map.of(
                          "endpoint", "http://renderer:8080/tasks",
                          "timeToRun", "PT10M",
                          "timeToStart", "PT1M"));
            });
  }

  @Test
  void aBadSettingFailsStartUpNamingTheTypeTheSettingAndTheRule() {
    var properties =
        new DistributionProperties(
            KEY,
            CALLBACK,
            null,
            null,
            null,
            null,
            Map.of("report.render", http(Map.of("endpoint", "ftp://renderer/tasks"))));

    assertThatThrownBy(() -> handlers(properties))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("job type 'report.render': endpoint must be an absolute http")
        .hasMessageContaining("ftp://renderer/tasks");
  }

  @Test
  void everyProblemOfEveryTypeAndTheMissingKeyAndUrlAreNamedInOneMessage() {
    var properties =
        new DistributionProperties(
            null,
            null,
            null,
            null,
            null,
            null,
            Map.of(
                "a.type",
                new DistributionProperties.TypeProperties(
                    "http", Map.of("endpoint", "http://svc/tasks", "timeToRun", "ten minutes"), 0),
                "b.type",
                http(Map.of()),
                "c.type",
                new DistributionProperties.TypeProperties("kubernetes-job", Map.of(), null),
                "d.type",
                new DistributionProperties.TypeProperties(null, Map.of(), null)));

    assertThatThrownBy(() -> handlers(properties))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("7 problems")
        .hasMessageContaining("shepherd.distribution.server-key is required")
        .hasMessageContaining("shepherd.distribution.callback-url is required")
        .hasMessageContaining("job type 'a.type': max-attempts must be >= 1")
        .hasMessageContaining("job type 'a.type': timeToRun must be a positive ISO-8601 duration")
        .hasMessageContaining("job type 'b.type': endpoint is required")
        .hasMessageContaining("job type 'c.type': distributor names no known distributor")
        .hasMessageContaining("job type 'd.type': distributor is not set");
  }

  @Test
  void aShortKeyOrARelativeCallbackUrlIsRefused() {
    var properties =
        new DistributionProperties(
            "too short",
            URI.create("/callbacks"),
            null,
            null,
            null,
            null,
            Map.of("t", http(Map.of("endpoint", "http://svc/tasks"))));

    assertThatThrownBy(() -> handlers(properties))
        .hasMessageContaining("server-key must be at least 32 bytes, was 9")
        .hasMessageContaining("callback-url must be an absolute http or https URL");
  }

  @Test
  void aDistributorBeyondHttpIsRegisteredAndItsTypesAreValidatedTheSameWay() {
    var properties =
        new DistributionProperties(
            KEY,
            CALLBACK,
            null,
            null,
            null,
            null,
            Map.of(
                "render.k8s",
                new DistributionProperties.TypeProperties(
                    "kubernetes-job", Map.of("namespace", "work"), 2),
                "render.http",
                http(Map.of("endpoint", "http://svc/tasks"))));

    List<DistributedHandler> handlers =
        DistributedTypes.handlers(
            properties,
            new RemoteReports(),
            DistributedTypes.httpClient(),
            List.of(Fixtures.named("kubernetes-job")),
            Clock.systemUTC());

    assertThat(handlers)
        .extracting(h -> h.type() + " on " + h.config().distributor())
        .containsExactly("render.http on http", "render.k8s on kubernetes-job");

    var wrong =
        new DistributionProperties(
            KEY,
            CALLBACK,
            null,
            null,
            null,
            null,
            Map.of(
                "render.k8s",
                new DistributionProperties.TypeProperties("kubernetes-job", Map.of(), null)));
    assertThatThrownBy(
            () ->
                DistributedTypes.handlers(
                    wrong,
                    new RemoteReports(),
                    DistributedTypes.httpClient(),
                    List.of(Fixtures.named("kubernetes-job")),
                    Clock.systemUTC()))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("job type 'render.k8s': namespace is required");
  }

  @Test
  void aSecondDistributorNamedHttpFailsTheStartNamingBothClasses() {
    var properties =
        new DistributionProperties(
            KEY,
            CALLBACK,
            null,
            null,
            null,
            null,
            Map.of("t", http(Map.of("endpoint", "http://svc/tasks"))));

    assertThatThrownBy(
            () ->
                DistributedTypes.handlers(
                    properties,
                    new RemoteReports(),
                    DistributedTypes.httpClient(),
                    List.of(Fixtures.named("http")),
                    Clock.systemUTC()))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("two distributors are named 'http'")
        .hasMessageContaining("HttpDistributor");
  }

  @Test
  void theStatusIntervalIsASecondUnlessSetAndMustBePositive() {
    assertThat(DistributionProperties.none().statusInterval()).isEqualTo(Duration.ofSeconds(1));
    assertThat(bind(Map.of("shepherd.distribution.status-interval", "250ms")).statusInterval())
        .isEqualTo(Duration.ofMillis(250));
    assertThatThrownBy(() -> bind(Map.of("shepherd.distribution.status-interval", "0s")))
        .hasRootCauseMessage("shepherd.distribution.status-interval must be positive, was PT0S");
  }

  @Test
  void retryKnobsHaveDefaultsAndRefuseNonsense() {
    var defaults = DistributionProperties.none();
    assertThat(defaults.runCalls()).isEqualTo(DistributionProperties.DEFAULT_RUN_CALLS);
    assertThat(defaults.firstBackoff()).isEqualTo(DistributionProperties.DEFAULT_FIRST_BACKOFF);
    assertThat(defaults.maxBackoff()).isEqualTo(DistributionProperties.DEFAULT_MAX_BACKOFF);

    assertThatThrownBy(() -> bind(Map.of("shepherd.distribution.run-calls", "0")))
        .hasRootCauseMessage("shepherd.distribution.run-calls must be >= 1, was 0");
  }
}
