package dev.shepherd.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.marcnuri.helm.Helm;
import com.marcnuri.helm.LintResult;
import com.marcnuri.helm.TemplateCommand;
import dev.shepherd.model.Json;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.dataformat.yaml.YAMLMapper;

/** Renders and lints the chart with the Helm library itself, with default and other values. */
class HelmChartTest {

  private static final Path CHART = Cluster.repositoryRoot().resolve("helm/shepherd");
  private static final YAMLMapper YAML = new YAMLMapper();

  private static List<JsonNode> render(UnaryOperator<TemplateCommand> values) {
    String manifests =
        values.apply(new Helm(CHART).template().withName("jobs").withNamespace("work")).call();
    List<JsonNode> objects = new ArrayList<>();
    for (String doc : manifests.split("(?m)^---\\s*$")) {
      if (!doc.isBlank()) {
        JsonNode node = YAML.readTree(doc);
        if (node != null && node.has("kind")) {
          objects.add(node);
        }
      }
    }
    return objects;
  }

  private static List<JsonNode> ofKind(List<JsonNode> objects, String kind) {
    return objects.stream().filter(o -> kind.equals(o.path("kind").asString())).toList();
  }

  /**
   * Every object the chart renders, with the default values and with each test values file, matches
   * the Kubernetes API's types (kubeconform's check, see {@link KubernetesSchema}).
   */
  @Test
  void everyRenderedObjectMatchesTheKubernetesApi() {
    List<String> problems = new ArrayList<>();
    int checked = 0;
    for (String values :
        List.of("", "other-values.yaml", "sre-values.yaml", "distribution-values.yaml")) {
      TemplateCommand template = new Helm(CHART).template().withName("jobs").withNamespace("work");
      if (!values.isEmpty()) {
        template =
            template.withValuesFile(
                Cluster.repositoryRoot().resolve("e2e-tests/src/test/resources/helm/" + values));
      }
      for (String doc : template.call().split("(?m)^---\\s*$")) {
        if (doc.lines().anyMatch(l -> l.startsWith("kind:"))) {
          checked++;
          KubernetesSchema.problems(doc).forEach(p -> problems.add(values + ": " + p));
        }
      }
    }
    assertThat(problems).isEmpty();
    assertThat(checked).isGreaterThanOrEqualTo(30);
  }

  @Test
  void theSchemaCheckFindsAFieldTheApiDoesNotHave() {
    String deployment =
        """
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: typo}
        spec:
          selector: {matchLabels: {a: b}}
          template:
            metadata: {labels: {a: b}}
            spec:
              securityContext: {seccompProfle: {type: RuntimeDefault}}
              containers: [{name: c, image: i}]
        """;
    assertThat(KubernetesSchema.problems(deployment))
        .singleElement()
        .asString()
        .contains("seccompProfle");
    assertThat(KubernetesSchema.problems(deployment.replace("seccompProfle", "seccompProfile")))
        .isEmpty();
  }

  @Test
  void theChartLintsClean() {
    LintResult lint = new Helm(CHART).lint().strict().call();
    assertThat(lint.isFailed()).as(String.join("\n", lint.getMessages())).isFalse();
  }

  @Test
  void everyDeploymentProbesTheActuatorHealthGroupsAndHasADisruptionBudget() {
    List<JsonNode> objects = render(t -> t);
    List<JsonNode> deployments = ofKind(objects, "Deployment");
    assertThat(deployments)
        .extracting(d -> d.path("metadata").path("name").asString())
        .containsExactlyInAnyOrder(
            "jobs-shepherd-scheduler",
            "jobs-shepherd-status-tracker",
            "jobs-shepherd-recovery",
            "jobs-shepherd-worker-default");
    List<JsonNode> budgets = ofKind(objects, "PodDisruptionBudget");
    for (JsonNode deployment : deployments) {
      String name = deployment.path("metadata").path("name").asString();
      JsonNode container = deployment.at("/spec/template/spec/containers/0");
      assertThat(container.at("/livenessProbe/httpGet/path").asString())
          .as(name)
          .isEqualTo("/actuator/health/liveness");
      assertThat(container.at("/readinessProbe/httpGet/path").asString())
          .as(name)
          .isEqualTo("/actuator/health/readiness");
      assertThat(container.at("/livenessProbe/httpGet/port").asString())
          .as("%s: probes on the management port, not the API's (ADR 40)", name)
          .isEqualTo("management");
      assertThat(container.at("/resources/requests/memory").asString()).as(name).isNotBlank();
      assertThat(container.at("/securityContext/runAsNonRoot").asBoolean()).as(name).isTrue();
      JsonNode podLabels = deployment.at("/spec/template/metadata/labels");
      assertThat(podLabels.properties()).as(name + " pod labels").isNotEmpty();
      // A budget with no labels selects every pod of the namespace (or none, for a missing
      // selector); one whose labels another deployment's pods also carry limits the wrong pods.
      assertThat(budgets)
          .as("a PodDisruptionBudget selects the pods of " + name + " and no other deployment's")
          .anySatisfy(
              pdb -> {
                assertThat(pdb.at("/spec/selector/matchLabels").properties())
                    .as("labels of " + pdb.at("/metadata/name").asString())
                    .isNotEmpty();
                assertThat(selects(pdb, podLabels)).isTrue();
                for (JsonNode other : deployments) {
                  if (other != deployment) {
                    assertThat(selects(pdb, other.at("/spec/template/metadata/labels")))
                        .as("also selects the pods of " + other.at("/metadata/name").asString())
                        .isFalse();
                  }
                }
              });
    }
  }

  /** Whether the budget's selector has labels and the pod carries every one of them. */
  private static boolean selects(JsonNode budget, JsonNode podLabels) {
    JsonNode labels = budget.at("/spec/selector/matchLabels");
    return !labels.properties().isEmpty()
        && labels.properties().stream()
            .allMatch(l -> l.getValue().asString().equals(podLabels.path(l.getKey()).asString()));
  }

  @Test
  void theRecoveryServiceMayOnlyGetListAndWatchPods() {
    List<JsonNode> objects = render(t -> t);
    List<JsonNode> roles = new ArrayList<>(ofKind(objects, "Role"));
    roles.addAll(ofKind(objects, "ClusterRole"));
    assertThat(roles).hasSize(1);
    JsonNode rules = roles.get(0).path("rules");
    assertThat(rules.size()).isEqualTo(1);
    assertThat(YAML.convertValue(rules.get(0).path("verbs"), List.class))
        .containsExactlyInAnyOrder("get", "list", "watch");
    assertThat(YAML.convertValue(rules.get(0).path("resources"), List.class))
        .containsExactly("pods");
    JsonNode recovery =
        ofKind(objects, "Deployment").stream()
            .filter(d -> d.at("/metadata/name").asString().endsWith("-recovery"))
            .findFirst()
            .orElseThrow();
    String account = recovery.at("/spec/template/spec/serviceAccountName").asString();
    assertThat(ofKind(objects, "RoleBinding").get(0).at("/subjects/0/name").asString())
        .isEqualTo(account);
  }

  /**
   * With {@code distribution.kubernetesJobs.enabled} the workers, and only they, run under a
   * service account bound to a Role that may manage Jobs and read pods and their logs in the
   * release namespace: exactly those rules, no ClusterRole. Off by default.
   */
  @Test
  void workersThatRunKubernetesJobsMayOnlyManageJobsAndReadPodsInTheReleaseNamespace() {
    assertThat(render(t -> t))
        .as("off by default")
        .noneMatch(o -> o.at("/metadata/name").asString().endsWith("-kubernetes-jobs"))
        .noneMatch(o -> o.at("/metadata/name").asString().equals("jobs-shepherd-worker"));

    List<JsonNode> objects = render(t -> t.set("distribution.kubernetesJobs.enabled", "true"));

    assertThat(ofKind(objects, "ClusterRole")).isEmpty();
    assertThat(ofKind(objects, "ClusterRoleBinding")).isEmpty();
    JsonNode role =
        ofKind(objects, "Role").stream()
            .filter(r -> r.at("/metadata/name").asString().equals("jobs-shepherd-kubernetes-jobs"))
            .findFirst()
            .orElseThrow();
    List<Map<String, Object>> rules = new ArrayList<>();
    role.path("rules").forEach(r -> rules.add(YAML.convertValue(r, Map.class)));
    assertThat(rules)
        .containsExactlyInAnyOrder(
            Map.of(
                "apiGroups", List.of("batch"),
                "resources", List.of("jobs"),
                "verbs", List.of("create", "get", "list", "watch", "delete")),
            Map.of(
                "apiGroups", List.of(""),
                "resources", List.of("pods", "pods/log"),
                "verbs", List.of("get", "list", "watch")));
    JsonNode binding =
        ofKind(objects, "RoleBinding").stream()
            .filter(b -> b.at("/roleRef/name").asString().equals("jobs-shepherd-kubernetes-jobs"))
            .findFirst()
            .orElseThrow();
    assertThat(binding.at("/roleRef/kind").asString()).isEqualTo("Role");
    assertThat(binding.path("subjects").size()).isEqualTo(1);
    assertThat(binding.at("/subjects/0/kind").asString()).isEqualTo("ServiceAccount");
    assertThat(binding.at("/subjects/0/name").asString()).isEqualTo("jobs-shepherd-worker");
    assertThat(binding.at("/subjects/0/namespace").asString()).isEqualTo("work");
    assertThat(ofKind(objects, "ServiceAccount"))
        .extracting(a -> a.at("/metadata/name").asString())
        .contains("jobs-shepherd-worker");
    for (JsonNode deployment : ofKind(objects, "Deployment")) {
      String name = deployment.at("/metadata/name").asString();
      JsonNode pod = deployment.at("/spec/template/spec");
      if (name.contains("-worker-")) {
        assertThat(pod.path("serviceAccountName").asString())
            .as(name)
            .isEqualTo("jobs-shepherd-worker");
        assertThat(pod.has("automountServiceAccountToken")).as(name).isFalse();
      } else {
        assertThat(pod.path("serviceAccountName").asString())
            .as(name + " does not get the workers' account")
            .isNotEqualTo("jobs-shepherd-worker");
      }
    }
  }

  /**
   * A pool's distributed types (ADR 45) reach its workers as Spring properties with their dots
   * kept, and the callback key reaches the scheduler and those workers from one Secret; a pool
   * without such types gets neither, and a pool with them but no key does not render.
   */
  @Test
  void aPoolsDistributedTypesReachItsWorkersAndTheCallbackKeyComesFromOneSecret() {
    Path values =
        Cluster.repositoryRoot()
            .resolve("e2e-tests/src/test/resources/helm/distribution-values.yaml");
    List<JsonNode> objects = render(t -> t.withValuesFile(values));

    JsonNode secret =
        ofKind(objects, "Secret").stream()
            .filter(o -> o.at("/metadata/name").asString().equals("jobs-shepherd-distribution"))
            .findFirst()
            .orElseThrow();
    assertThat(secret.at("/stringData/server-key").asString())
        .isEqualTo("0123456789abcdef0123456789abcdef-chart-test");
    Map<String, JsonNode> deployments = new java.util.TreeMap<>();
    ofKind(objects, "Deployment")
        .forEach(d -> deployments.put(d.at("/metadata/name").asString(), d));
    for (String withKey : List.of("jobs-shepherd-scheduler", "jobs-shepherd-worker-render")) {
      JsonNode key = env(deployments.get(withKey), "SHEPHERD_DISTRIBUTION_SERVERKEY");
      assertThat(key.at("/valueFrom/secretKeyRef/name").asString())
          .as(withKey)
          .isEqualTo("jobs-shepherd-distribution");
      assertThat(key.at("/valueFrom/secretKeyRef/key").asString()).isEqualTo("server-key");
    }
    JsonNode json =
        Json.mapper()
            .readTree(
                env(deployments.get("jobs-shepherd-worker-render"), "SPRING_APPLICATION_JSON")
                    .path("value")
                    .asString());
    JsonNode distribution = json.at("/shepherd/distribution");
    assertThat(distribution.path("callback-url").asString())
        .isEqualTo("http://jobs-shepherd-scheduler:8080");
    JsonNode render = distribution.path("types").path("[report.render]");
    assertThat(render.path("distributor").asString()).isEqualTo("http");
    assertThat(render.at("/settings/statusUrl").asString())
        .isEqualTo("http://renderer:9000/render/{task}");
    assertThat(render.path("maxAttempts").asInt()).isEqualTo(3);
    JsonNode plain = deployments.get("jobs-shepherd-worker-default");
    assertThat(env(plain, "SPRING_APPLICATION_JSON").isMissingNode()).isTrue();
    assertThat(env(plain, "SHEPHERD_DISTRIBUTION_SERVERKEY").isMissingNode()).isTrue();

    assertThatThrownBy(
            () -> render(t -> t.withValuesFile(values).set("distribution.serverKey", "")))
        .hasMessageContaining("distributedTypes needs distribution.serverKey");
  }

  /** The first container's environment variable {@code name}, or a missing node. */
  private static JsonNode env(JsonNode deployment, String name) {
    for (JsonNode e : deployment.at("/spec/template/spec/containers/0/env")) {
      if (name.equals(e.path("name").asString())) {
        return e;
      }
    }
    return tools.jackson.databind.node.MissingNode.getInstance();
  }

  @Test
  void monitoringObjectsCarryTheSameDashboardAndRulesAsCompose() throws Exception {
    List<JsonNode> objects = render(t -> t);
    assertThat(ofKind(objects, "ServiceMonitor")).hasSize(1);
    JsonNode rule = ofKind(objects, "PrometheusRule").get(0);
    assertThat(rule.at("/spec/groups/0/rules").size())
        .isEqualTo(Observability.rules().at("/groups/0/rules").size());
    assertThat(rule.at("/spec/groups/0/rules/0/annotations/runbook_url").asString())
        .isEqualTo("https://shepherd.dev/docs/OPERATIONS.md#shepherdjobsdying");
    JsonNode elsewhere =
        ofKind(
                render(
                    t ->
                        t.set(
                            "metrics.prometheusRule.runbookBaseUrl",
                            "https://wiki.example/shepherd")),
                "PrometheusRule")
            .get(0);
    assertThat(elsewhere.at("/spec/groups/0/rules/0/annotations/runbook_url").asString())
        .as("a team's own runbook base")
        .isEqualTo("https://wiki.example/shepherd#shepherdjobsdying");
    JsonNode dashboard =
        ofKind(objects, "ConfigMap").stream()
            .filter(c -> c.at("/metadata/name").asString().endsWith("-dashboard"))
            .findFirst()
            .orElseThrow();
    assertThat(dashboard.at("/metadata/labels/grafana_dashboard").asString()).isEqualTo("1");
    assertThat(YAML.readTree(dashboard.at("/data/shepherd.json").asString()))
        .isEqualTo(YAML.readTree(Files.readString(CHART.resolve("dashboards/shepherd.json"))));
  }

  /** What the restricted Pod Security level asks, and a restart when a secret changes. */
  @Test
  void everyPodIsRestrictedAndRestartsWhenTheChartsSecretsChange() {
    List<JsonNode> objects = render(t -> t);
    for (JsonNode deployment : ofKind(objects, "Deployment")) {
      String name = deployment.at("/metadata/name").asString();
      JsonNode pod = deployment.at("/spec/template/spec");
      assertThat(pod.at("/securityContext/seccompProfile/type").asString())
          .as(name)
          .isEqualTo("RuntimeDefault");
      assertThat(pod.at("/securityContext/runAsNonRoot").asBoolean()).as(name).isTrue();
      JsonNode container = pod.at("/containers/0");
      assertThat(container.at("/securityContext/allowPrivilegeEscalation").asBoolean())
          .as(name)
          .isFalse();
      assertThat(container.at("/securityContext/capabilities/drop/0").asString()).isEqualTo("ALL");
      assertThat(
              deployment
                  .at("/spec/template/metadata/annotations")
                  .path("checksum/secrets")
                  .asString())
          .as(name)
          .hasSize(64);
    }
    assertThat(ofKind(objects, "NetworkPolicy")).as("off by default").isEmpty();
    String before = checksum(objects);
    String after = checksum(render(t -> t.set("redis.users.scheduler.password", "changed")));
    assertThat(after).as("the checksum follows the secrets").isNotEqualTo(before);
  }

  private static String checksum(List<JsonNode> objects) {
    return ofKind(objects, "Deployment")
        .get(0)
        .at("/spec/template/metadata/annotations")
        .path("checksum/secrets")
        .asString();
  }

  @Test
  void anSresValuesReachEveryPod() {
    List<JsonNode> objects =
        render(
            t ->
                t.withValuesFile(
                    Cluster.repositoryRoot()
                        .resolve("e2e-tests/src/test/resources/helm/sre-values.yaml")));
    List<JsonNode> deployments = ofKind(objects, "Deployment");
    assertThat(deployments).hasSize(5);
    for (JsonNode deployment : deployments) {
      String name = deployment.at("/metadata/name").asString();
      JsonNode template = deployment.at("/spec/template");
      JsonNode pod = template.path("spec");
      assertThat(template.at("/metadata/annotations/team.example~1owner").asString())
          .as(name)
          .isEqualTo("jobs");
      assertThat(pod.at("/imagePullSecrets/0/name").asString())
          .as(name)
          .isEqualTo("registry-credentials");
      assertThat(pod.at("/nodeSelector/kubernetes.io~1os").asString()).as(name).isEqualTo("linux");
      assertThat(pod.at("/tolerations/0/key").asString()).as(name).isEqualTo("dedicated");
      assertThat(pod.at("/affinity/podAntiAffinity").isObject()).as(name).isTrue();
      JsonNode container = pod.at("/containers/0");
      assertThat(container.at("/envFrom/0/secretRef/name").asString())
          .as(name)
          .isEqualTo("shepherd-extra");
      Map<String, JsonNode> env = new java.util.HashMap<>();
      container.path("env").forEach(e -> env.put(e.path("name").asString(), e));
      assertThat(env.get("JAVA_TOOL_OPTIONS").path("value").asString())
          .as(name)
          .isEqualTo("-XX:+PrintFlagsFinal");
      assertThat(env.get("SPRING_DATA_REDIS_PASSWORD").at("/valueFrom/secretKeyRef").toString())
          .as(name + ": the existing Secret's key of the service's user")
          .contains(
              "\"redis\"",
              env.get("SPRING_DATA_REDIS_USERNAME").path("value").asString() + "-redis-password");
    }
    JsonNode reports =
        deployments.stream()
            .filter(d -> d.at("/metadata/name").asString().endsWith("worker-reports"))
            .findFirst()
            .orElseThrow();
    assertThat(reports.at("/spec/template/spec/containers/0/image").asString())
        .isEqualTo("registry.example/team/reports-worker:1.4.2");
    List<JsonNode> scaled = ofKind(objects, "ScaledObject");
    assertThat(scaled).as("KEDA for the burst pool").hasSize(1);
    assertThat(scaled.get(0).at("/spec/scaleTargetRef/name").asString())
        .isEqualTo("jobs-shepherd-worker-burst");
    JsonNode trigger = scaled.get(0).at("/spec/triggers/0");
    assertThat(trigger.path("type").asString()).isEqualTo("rabbitmq");
    assertThat(trigger.at("/metadata/queueName").asString()).isEqualTo("shepherd.work.burst");
    assertThat(trigger.at("/metadata/value").asString()).isEqualTo("40");
    assertThat(
            ofKind(objects, "TriggerAuthentication")
                .get(0)
                .at("/spec/secretTargetRef/0/key")
                .asString())
        .isEqualTo("amqp-url");
    assertThat(ofKind(objects, "HorizontalPodAutoscaler")).as("KEDA makes its own").isEmpty();
    JsonNode brokerSecret =
        ofKind(objects, "Secret").stream()
            .filter(x -> x.at("/metadata/name").asString().endsWith("-rabbitmq"))
            .findFirst()
            .orElseThrow();
    assertThat(brokerSecret.at("/stringData/amqp-url").asString())
        .isEqualTo("amqp://worker:@rabbitmq:5672/%2F");
    List<JsonNode> policies = ofKind(objects, "NetworkPolicy");
    assertThat(policies).hasSize(4);
    for (JsonNode policy : policies) {
      assertThat(policy.at("/spec/ingress/0/ports/0/port").asString()).isEqualTo("http");
      assertThat(policy.at("/spec/ingress/1/ports/0/port").asString()).isEqualTo("management");
      assertThat(policy.at("/spec/podSelector/matchLabels/app.kubernetes.io~1component").asString())
          .isIn("scheduler", "status-tracker", "recovery", "worker");
    }
  }

  @Test
  void otherValuesRenderTwoPoolsAQueueDepthAutoscalerAndExistingSecrets() {
    List<JsonNode> objects =
        render(
            t ->
                t.withValuesFile(
                    Cluster.repositoryRoot()
                        .resolve("e2e-tests/src/test/resources/helm/other-values.yaml")));
    assertThat(ofKind(objects, "Deployment"))
        .extracting(d -> d.at("/metadata/name").asString())
        .contains("jobs-shepherd-worker-fast", "jobs-shepherd-worker-slow");
    List<JsonNode> hpas = ofKind(objects, "HorizontalPodAutoscaler");
    assertThat(hpas).hasSize(1);
    assertThat(hpas.get(0).at("/spec/metrics/0/external/metric/name").asString())
        .isEqualTo("shepherd_queue_depth");
    assertThat(ofKind(objects, "Role")).isEmpty();
    assertThat(ofKind(objects, "ServiceMonitor")).isEmpty();
    assertThat(ofKind(objects, "Secret"))
        .extracting(s -> s.at("/metadata/name").asString())
        .doesNotContain("jobs-shepherd-rabbitmq");
    JsonNode slow =
        ofKind(objects, "Deployment").stream()
            .filter(d -> d.at("/metadata/name").asString().endsWith("worker-slow"))
            .findFirst()
            .orElseThrow();
    assertThat(slow.at("/spec/replicas").asInt()).isEqualTo(3);
    Map<String, String> env = new java.util.HashMap<>();
    slow.at("/spec/template/spec/containers/0/env")
        .forEach(
            e ->
                env.put(
                    e.path("name").asString(),
                    e.has("value")
                        ? e.path("value").asString()
                        : e.at("/valueFrom/secretKeyRef/name").asString()));
    assertThat(env)
        .containsEntry("SHEPHERD_WORKER_POOL", "slow")
        .containsEntry("SHEPHERD_WORKER_CAPACITY", "2")
        .containsEntry("SHEPHERD_MESSAGING_POOLS_FAST", "demo.noop")
        .containsEntry("SPRING_RABBITMQ_USERNAME", "worker")
        .containsEntry("SPRING_RABBITMQ_PASSWORD", "broker-credentials");
  }

  /**
   * Each service connects to the broker and Redis as its own user (docs/SECURITY.md), its password
   * from the Secret under its own key; TLS is off until switched on.
   */
  /**
   * The chart's broker-access Secret holds deploy/'s users and permissions for the release: the
   * same RabbitMQ permissions and topic permissions (prefix {@code shepherd}), and the same Redis
   * ACL rules, with the values' passwords in place of deploy/'s hashes. So the two cannot drift.
   */
  @Test
  void theBrokerAccessSecretHasDeploysPermissionsWithTheReleasesPasswords() throws Exception {
    List<JsonNode> objects =
        render(
            t -> {
              t.set("brokerAccess.enabled", "true").set("brokerAccess.producer.password", "pp");
              for (String user : List.of("scheduler", "statusTracker", "recovery", "worker")) {
                t.set("rabbitmq.users." + user + ".password", "r-" + user)
                    .set("redis.users." + user + ".password", "d-" + user);
              }
              return t;
            });
    JsonNode secret =
        ofKind(objects, "Secret").stream()
            .filter(s -> s.at("/metadata/name").asString().endsWith("-broker-access"))
            .findFirst()
            .orElseThrow();
    JsonNode rendered =
        dev.shepherd.model.Json.mapper()
            .readTree(secret.at("/stringData/definitions.json").asString());
    Path deploy = Cluster.repositoryRoot().resolve("deploy");
    JsonNode shipped =
        dev.shepherd.model.Json.mapper()
            .readTree(Files.readString(deploy.resolve("rabbitmq/definitions.json")));
    assertThat(byUser(rendered.path("permissions")))
        .isEqualTo(withoutUser(byUser(shipped.path("permissions")), "operator"));
    assertThat(byUser(rendered.path("topic_permissions")))
        .isEqualTo(byUser(shipped.path("topic_permissions")));
    assertThat(rendered.at("/users/0/name").asString()).isEqualTo("producer");
    assertThat(rendered.at("/users/0/password").asString()).isEqualTo("pp");

    // Redis: each service user's rules as deploy/ has them, the password as the values give it
    Map<String, String> acl = aclRules(secret.at("/stringData/users.acl").asString());
    Map<String, String> shippedAcl = aclRules(Files.readString(deploy.resolve("redis/users.acl")));
    for (String user : List.of("default", "scheduler", "status-tracker", "recovery", "worker")) {
      assertThat(acl.get(user)).as(user).isEqualTo(shippedAcl.get(user));
    }
    assertThat(secret.at("/stringData/users.acl").asString()).contains("user worker on >d-worker ");
  }

  private static Map<String, JsonNode> byUser(JsonNode entries) {
    Map<String, JsonNode> byUser = new java.util.TreeMap<>();
    entries.forEach(e -> byUser.put(e.path("user").asString(), e));
    return byUser;
  }

  private static Map<String, JsonNode> withoutUser(Map<String, JsonNode> byUser, String user) {
    Map<String, JsonNode> rest = new java.util.TreeMap<>(byUser);
    rest.remove(user);
    return rest;
  }

  /** Each ACL user's rules, without its password ({@code >...} or {@code #...}) or nopass. */
  private static Map<String, String> aclRules(String file) {
    Map<String, String> rules = new java.util.TreeMap<>();
    for (String line : file.split("\n")) {
      String[] words = line.trim().split("\\s+");
      if (words.length > 2 && words[0].equals("user")) {
        rules.put(
            words[1],
            java.util.Arrays.stream(words)
                .skip(2)
                .filter(w -> !w.startsWith(">") && !w.startsWith("#") && !w.equals("nopass"))
                .collect(java.util.stream.Collectors.joining(" ")));
      }
    }
    return rules;
  }

  @Test
  void eachServiceConnectsAsItsOwnUserAndTlsIsASwitch() {
    Map<String, Map<String, JsonNode>> byService = containerEnv(render(t -> t));
    assertThat(byService.keySet())
        .contains(
            "jobs-shepherd-scheduler",
            "jobs-shepherd-status-tracker",
            "jobs-shepherd-recovery",
            "jobs-shepherd-worker-default");
    Map<String, String> rabbitUsers = new java.util.HashMap<>();
    byService.forEach(
        (name, env) -> {
          String rabbit = env.get("SPRING_RABBITMQ_USERNAME").path("value").asString();
          String redis = env.get("SPRING_DATA_REDIS_USERNAME").path("value").asString();
          assertThat(redis).as(name).isEqualTo(rabbit);
          assertThat(
                  env.get("SPRING_RABBITMQ_PASSWORD").at("/valueFrom/secretKeyRef/key").asString())
              .as(name)
              .isEqualTo(rabbit + "-password");
          assertThat(
                  env.get("SPRING_DATA_REDIS_PASSWORD")
                      .at("/valueFrom/secretKeyRef/key")
                      .asString())
              .as(name)
              .isEqualTo(redis + "-password");
          assertThat(env.get("SPRING_RABBITMQ_SSL_ENABLED").path("value").asString())
              .isEqualTo("false");
          assertThat(env.get("SPRING_DATA_REDIS_SSL_ENABLED").path("value").asString())
              .isEqualTo("false");
          // only the scheduler declares the shared topology (ADR 41)
          assertThat(env.containsKey("SHEPHERD_MESSAGING_DECLARETOPOLOGY"))
              .as(name)
              .isEqualTo(!name.endsWith("-scheduler"));
          if (!name.endsWith("-scheduler")) {
            assertThat(env.get("SHEPHERD_MESSAGING_DECLARETOPOLOGY").path("value").asString())
                .as(name)
                .isEqualTo("false");
          }
          rabbitUsers.put(name, rabbit);
        });
    assertThat(rabbitUsers)
        .containsEntry("jobs-shepherd-scheduler", "scheduler")
        .containsEntry("jobs-shepherd-status-tracker", "status-tracker")
        .containsEntry("jobs-shepherd-recovery", "recovery")
        .containsEntry("jobs-shepherd-worker-default", "worker");
    assertThat(new java.util.HashSet<>(rabbitUsers.values())).as("no two share a user").hasSize(4);

    List<JsonNode> tls =
        render(t -> t.set("rabbitmq.tls.enabled", "true").set("redis.tls.enabled", "true"));
    containerEnv(tls)
        .forEach(
            (name, env) -> {
              assertThat(env.get("SPRING_RABBITMQ_SSL_ENABLED").path("value").asString())
                  .as(name)
                  .isEqualTo("true");
              assertThat(env.get("SPRING_DATA_REDIS_SSL_ENABLED").path("value").asString())
                  .as(name)
                  .isEqualTo("true");
            });
    assertThat(
            ofKind(tls, "Secret").stream()
                .filter(x -> x.at("/metadata/name").asString().endsWith("-rabbitmq"))
                .findFirst()
                .orElseThrow()
                .at("/stringData/amqp-url")
                .asString())
        .startsWith("amqps://worker:");
  }

  @Test
  void aBrokerClusterIsGivenToEveryServiceAsAShuffledAddressList() {
    containerEnv(render(t -> t))
        .forEach(
            (name, env) -> assertThat(env).as(name).doesNotContainKey("SPRING_RABBITMQ_ADDRESSES"));
    String nodes = "rabbit-0:5672,rabbit-1:5672,rabbit-2:5672";
    containerEnv(render(t -> t.set("rabbitmq.addresses", nodes)))
        .forEach(
            (name, env) -> {
              assertThat(env.get("SPRING_RABBITMQ_ADDRESSES").path("value").asString())
                  .as(name)
                  .isEqualTo(nodes);
              assertThat(env.get("SPRING_RABBITMQ_ADDRESS_SHUFFLE_MODE").path("value").asString())
                  .as(name)
                  .isEqualTo("random");
            });
  }

  @Test
  void aRedisClusterOrSentinelIsGivenToEveryServiceInsteadOfHostAndPort() {
    containerEnv(render(t -> t))
        .forEach(
            (name, env) -> {
              assertThat(env).as(name).containsKey("SPRING_DATA_REDIS_HOST");
              assertThat(env).as(name).doesNotContainKey("SPRING_DATA_REDIS_CLUSTER_NODES");
              assertThat(env.get("SHEPHERD_STORE_REPLICAS_TO_ACKNOWLEDGE").path("value").asString())
                  .as(name)
                  .isEqualTo("0");
            });
    String nodes = "redis-0:6379,redis-1:6379,redis-2:6379";
    containerEnv(
            render(
                t -> t.set("redis.cluster.nodes", nodes).set("store.replicasToAcknowledge", "1")))
        .forEach(
            (name, env) -> {
              assertThat(env.get("SPRING_DATA_REDIS_CLUSTER_NODES").path("value").asString())
                  .as(name)
                  .isEqualTo(nodes);
              assertThat(env).as(name).doesNotContainKey("SPRING_DATA_REDIS_HOST");
              assertThat(env.get("SHEPHERD_STORE_REPLICAS_TO_ACKNOWLEDGE").path("value").asString())
                  .as(name)
                  .isEqualTo("1");
            });
    containerEnv(
            render(
                t ->
                    t.set("redis.sentinel.master", "shepherd")
                        .set("redis.sentinel.nodes", "sentinel-0:26379,sentinel-1:26379")))
        .forEach(
            (name, env) -> {
              assertThat(env.get("SPRING_DATA_REDIS_SENTINEL_MASTER").path("value").asString())
                  .as(name)
                  .isEqualTo("shepherd");
              assertThat(env.get("SPRING_DATA_REDIS_SENTINEL_NODES").path("value").asString())
                  .as(name)
                  .isEqualTo("sentinel-0:26379,sentinel-1:26379");
              assertThat(env).as(name).doesNotContainKey("SPRING_DATA_REDIS_HOST");
            });
  }

  private static Map<String, Map<String, JsonNode>> containerEnv(List<JsonNode> objects) {
    Map<String, Map<String, JsonNode>> byDeployment = new java.util.TreeMap<>();
    for (JsonNode deployment : ofKind(objects, "Deployment")) {
      Map<String, JsonNode> env = new java.util.HashMap<>();
      deployment
          .at("/spec/template/spec/containers/0/env")
          .forEach(e -> env.put(e.path("name").asString(), e));
      byDeployment.put(deployment.at("/metadata/name").asString(), env);
    }
    return byDeployment;
  }
}
