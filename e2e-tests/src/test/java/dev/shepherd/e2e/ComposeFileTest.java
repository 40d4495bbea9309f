package dev.shepherd.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.dataformat.yaml.YAMLMapper;

/** docker-compose.yml and the Dockerfile hold what an SRE expects, where no Docker engine runs. */
class ComposeFileTest {

  private final Path root = Cluster.repositoryRoot();

  @Test
  void everyServiceIsThereWithAHealthCheckAndTheDashboardIsTheChartsOwn() throws Exception {
    JsonNode compose =
        new YAMLMapper().readTree(Files.readString(root.resolve("docker-compose.yml")));
    JsonNode services = compose.path("services");
    for (String name :
        new String[] {
          "rabbitmq",
          "redis",
          "prometheus",
          "grafana",
          "scheduler",
          "status-tracker",
          "recovery",
          "worker-1",
          "worker-2"
        }) {
      assertThat(services.has(name)).as(name).isTrue();
      assertThat(services.path(name).path("healthcheck").path("test").isArray()).as(name).isTrue();
    }
    assertThat(services.path("redis").path("command").toString())
        .contains("--appendonly", "yes", "everysec");
    assertThat(services.path("rabbitmq").path("image").asString()).contains("management");
    // least privilege (docs/SECURITY.md): the broker's users from definitions.json, Redis's from an
    // ACL file, and each service connects as its own user of both
    assertThat(services.path("rabbitmq").path("volumes").toString())
        .contains("./deploy/rabbitmq/rabbitmq.conf:", "./deploy/rabbitmq/definitions.json:");
    assertThat(services.path("rabbitmq").has("environment")).as("no default user").isFalse();
    assertThat(Files.readString(root.resolve("deploy/rabbitmq/rabbitmq.conf")))
        .contains("load_definitions = /etc/rabbitmq/definitions.json");
    assertThat(services.path("redis").path("command").toString())
        .contains("--aclfile", "/etc/redis/users.acl");
    assertThat(services.path("redis").path("volumes").toString())
        .contains("./deploy/redis/users.acl:/etc/redis/users.acl");
    for (String[] service :
        new String[][] {
          {"scheduler", "scheduler"},
          {"status-tracker", "status-tracker"},
          {"recovery", "recovery"},
          {"worker-1", "worker"},
          {"worker-2", "worker"}
        }) {
      JsonNode env = services.path(service[0]).path("environment");
      assertThat(env.path("SPRING_RABBITMQ_USERNAME").asString())
          .as(service[0])
          .isEqualTo(service[1]);
      assertThat(env.path("SPRING_DATA_REDIS_USERNAME").asString())
          .as(service[0])
          .isEqualTo(service[1]);
      assertThat(env.path("SPRING_RABBITMQ_PASSWORD").asString()).as(service[0]).isNotBlank();
      assertThat(env.path("SPRING_DATA_REDIS_PASSWORD").asString()).as(service[0]).isNotBlank();
      // only the scheduler's user may declare the shared topology (ADR 41)
      assertThat(env.path("SHEPHERD_MESSAGING_DECLARETOPOLOGY").asString("true"))
          .as(service[0])
          .isEqualTo(service[0].equals("scheduler") ? "true" : "false");
    }
    assertThat(services.path("grafana").path("volumes").toString())
        .contains("./helm/shepherd/dashboards:");
    assertThat(services.path("prometheus").path("volumes").toString())
        .contains("./helm/shepherd/rules:");
    // the dashboard's broker and Redis panels read these exporters
    assertThat(services.path("rabbitmq").path("ports").toString()).contains("15692");
    assertThat(Files.readString(root.resolve("deploy/rabbitmq/enabled_plugins")))
        .contains("rabbitmq_prometheus");
    assertThat(services.path("redis-exporter").path("environment").path("REDIS_ADDR").asString())
        .isEqualTo("redis://redis:6379");
    JsonNode scrapes =
        new YAMLMapper()
            .readTree(Files.readString(root.resolve("deploy/prometheus/prometheus.yml")))
            .path("scrape_configs");
    assertThat(scrapes.findValuesAsString("job_name")).contains("shepherd", "rabbitmq", "redis");
    assertThat(scrapes.toString()).contains("rabbitmq:15692", "redis-exporter:9121");
    for (String volume :
        new String[] {
          "deploy/prometheus/prometheus.yml",
          "deploy/grafana/provisioning/datasources/prometheus.yml",
          "deploy/grafana/provisioning/dashboards/shepherd.yml"
        }) {
      assertThat(root.resolve(volume)).isRegularFile();
    }
  }

  /** Built per module, shipped in Spring Boot's layers, started from the extracted jar. */
  @Test
  void theImageBuildsOnlyItsServiceAndShipsItInLayers() throws Exception {
    String dockerfile = Files.readString(root.resolve("Dockerfile"));
    assertThat(dockerfile).contains("-pl services/${SERVICE} -am");
    assertThat(dockerfile).contains("-Djarmode=tools -jar /service.jar extract --layers");
    List<String> layers =
        dockerfile
            .lines()
            .filter(l -> l.startsWith("COPY --from=build /layers/"))
            .map(l -> l.split("/")[2])
            .toList();
    assertThat(layers)
        .as("least often changed first")
        .containsExactly(
            "dependencies", "spring-boot-loader", "snapshot-dependencies", "application");
    // every module's POM, or the cached dependency layer misses a module and Maven refuses the
    // build before COPY . . (the CLI and the starter were once left out)
    var modules =
        java.util.regex.Pattern.compile("<module>([^<]+)</module>")
            .matcher(Files.readString(root.resolve("pom.xml")))
            .results()
            .map(m -> m.group(1))
            .toList();
    assertThat(modules).contains("services/scheduler", "libs/cli");
    for (String module : modules) {
      assertThat(dockerfile).contains("COPY " + module + "/pom.xml " + module + "/");
    }
  }

  @Test
  void theImageRunsAsANonRootUserOnAJre() throws Exception {
    String dockerfile = Files.readString(root.resolve("Dockerfile"));
    assertThat(dockerfile).containsPattern("(?m)^FROM eclipse-temurin:21-jre");
    assertThat(dockerfile).containsPattern("(?m)^USER 10001");
  }

  @Test
  void theImageRunsWithTheJvmOptionsTheBenchmarksAndTestsUse() throws Exception {
    String dockerfile = Files.readString(root.resolve("Dockerfile"));
    assertThat(dockerfile).contains("COPY deploy/jvm.options /app/jvm.options");
    assertThat(dockerfile).containsPattern("(?m)JDK_JAVA_OPTIONS=\"@/app/jvm.options\"");
    assertThat(JvmOptions.deployment("-Xmx1m"))
        .contains("-XX:TieredStopAtLevel=1", "-XX:CompileThresholdScaling=0.1", "-XX:+UseSerialGC")
        .endsWith("-Xmx1m")
        .noneMatch(option -> option.isBlank() || option.contains("#"));
  }
}
