package dev.shepherd.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/** The dashboard is valid for Grafana's provisioning and the rules are well-formed. */
class DashboardAndRulesTest {

  @Test
  void theDashboardHasWhatGrafanaProvisioningNeeds() {
    JsonNode dashboard = Observability.dashboard();
    assertThat(dashboard.path("uid").asString()).matches("[a-zA-Z0-9_-]{1,40}");
    assertThat(dashboard.path("title").asString()).isNotBlank();
    assertThat(dashboard.path("schemaVersion").asInt()).isGreaterThanOrEqualTo(36);
    assertThat(dashboard.has("id"))
        .as("a provisioned dashboard must not carry a database id")
        .isFalse();
    assertThat(dashboard.path("templating").path("list").findValuesAsString("name"))
        .contains("datasource");
    Set<Integer> ids = new HashSet<>();
    JsonNode panels = dashboard.path("panels");
    assertThat(panels.size()).isGreaterThanOrEqualTo(8);
    for (JsonNode panel : panels) {
      String title = panel.path("title").asString();
      assertThat(ids.add(panel.path("id").asInt())).as("unique id: " + title).isTrue();
      assertThat(panel.path("type").asString())
          .as(title)
          .isIn("timeseries", "stat", "gauge", "table");
      JsonNode grid = panel.path("gridPos");
      for (String field : new String[] {"h", "w", "x", "y"}) {
        assertThat(grid.path(field).isInt()).as(title + " gridPos." + field).isTrue();
      }
      assertThat(grid.path("x").asInt() + grid.path("w").asInt()).as(title).isLessThanOrEqualTo(24);
      assertThat(panel.path("targets").size()).as(title).isPositive();
      for (JsonNode target : panel.path("targets")) {
        assertThat(target.path("expr").asString())
            .as(title + ": Shepherd's metrics, or the broker's and Redis's exporters'")
            .containsAnyOf("shepherd_", "rabbitmq_", "redis_");
        assertThat(target.path("datasource").path("uid").asString()).isEqualTo("${datasource}");
      }
    }
  }

  @Test
  void everyRuleHasANameAnExpressionASeverityAndARunbook() {
    JsonNode groups = Observability.rules().path("groups");
    assertThat(groups.size()).isPositive();
    int rules = 0;
    for (JsonNode group : groups) {
      for (JsonNode rule : group.path("rules")) {
        rules++;
        String name = rule.path("alert").asString();
        assertThat(name).matches("[A-Z][A-Za-z]+");
        assertThat(rule.path("expr").asString()).as(name).contains("shepherd_");
        assertThat(rule.path("labels").path("severity").asString())
            .as(name)
            .isIn("warning", "critical");
        assertThat(rule.path("annotations").path("runbook").asString())
            .as(name)
            .isEqualTo("docs/OPERATIONS.md#" + name.toLowerCase());
        assertThat(rule.path("annotations").path("runbook_url").asString())
            .as(name)
            .isEqualTo("https://shepherd.dev/docs/OPERATIONS.md#" + name.toLowerCase());
        assertThat(OPERATIONS).as("the runbook of " + name).contains("\n### " + name + "\n");
        assertBalanced(name, rule.path("expr").asString());
      }
    }
    assertThat(rules).isGreaterThanOrEqualTo(6);
  }

  /**
   * The gauges every replica exports alike (read from Redis) are taken with {@code max}, never
   * summed: two recovery replicas must not double the queue depth, the workers or the leases.
   */
  @Test
  void gaugesThatEveryReplicaExportsAlikeAreNeverSummed() {
    List<String> expressions = new ArrayList<>();
    Observability.dashboard()
        .path("panels")
        .forEach(
            panel ->
                panel.path("targets").forEach(t -> expressions.add(t.path("expr").asString())));
    Observability.rules()
        .path("groups")
        .forEach(
            group -> group.path("rules").forEach(r -> expressions.add(r.path("expr").asString())));
    int seen = 0;
    for (String gauge : REPLICATED_GAUGES) {
      Pattern use = Pattern.compile("\\b" + gauge + "\\b");
      Pattern taken = Pattern.compile("(max|min|avg|absent)( by \\([^)]*\\) )?\\(" + gauge + "\\b");
      for (String expr : expressions) {
        int uses = (int) use.matcher(expr).results().count();
        seen += uses;
        assertThat(taken.matcher(expr).results().count())
            .as("%s in %s: every use inside max, min, avg or absent", gauge, expr)
            .isEqualTo(uses);
      }
    }
    assertThat(seen).as("uses of those gauges").isGreaterThanOrEqualTo(6);
  }

  private static final String OPERATIONS = read("docs/OPERATIONS.md");

  private static String read(String path) {
    try {
      return java.nio.file.Files.readString(Cluster.repositoryRoot().resolve(path));
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  /** Alerts that see a service down or its gauges gone, which no other alert can. */
  @Test
  void absentServicesAndGaugesHaveTheirOwnAlerts() {
    List<String> expressions = new ArrayList<>();
    Observability.rules()
        .path("groups")
        .forEach(
            group -> group.path("rules").forEach(r -> expressions.add(r.path("expr").asString())));
    for (String service :
        List.of("shepherd-scheduler", "shepherd-status-tracker", "shepherd-recovery")) {
      assertThat(expressions)
          .as(service)
          .anySatisfy(
              e ->
                  assertThat(e)
                      .contains("absent(process_uptime_seconds{shepherd_service=\"" + service));
    }
    assertThat(expressions).anySatisfy(e -> assertThat(e).contains("absent(shepherd_queue_depth)"));
  }

  private static final List<String> REPLICATED_GAUGES =
      List.of(
          "shepherd_queue_depth",
          "shepherd_queue_oldest_age_seconds",
          "shepherd_leases_held",
          "shepherd_workers",
          "shepherd_outbox_size",
          "shepherd_outbox_oldest_age_seconds",
          "shepherd_ordering_keys_down",
          "shepherd_ordering_keys_down_oldest_age_seconds");

  private static void assertBalanced(String name, String expr) {
    int depth = 0;
    for (char c : expr.toCharArray()) {
      depth += c == '(' || c == '[' || c == '{' ? 1 : c == ')' || c == ']' || c == '}' ? -1 : 0;
      assertThat(depth).as(name + ": brackets").isNotNegative();
    }
    assertThat(depth).as(name + ": brackets").isZero();
  }
}
