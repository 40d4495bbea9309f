package dev.shepherd.e2e;

import dev.shepherd.model.Json;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import tools.jackson.databind.JsonNode;
import tools.jackson.dataformat.yaml.YAMLMapper;

/** Reads the dashboard and the alert rules, and the metric names their queries use. */
final class Observability {

  /** A Shepherd metric's name; {@code shepherd_service} is the label every series carries. */
  static final Pattern METRIC = Pattern.compile("\\bshepherd_(?!service\\b)[a-z0-9_]+");

  private Observability() {}

  static Path chart() {
    return Cluster.repositoryRoot().resolve("helm/shepherd");
  }

  static JsonNode dashboard() {
    return Json.mapper().readTree(read(chart().resolve("dashboards/shepherd.json")));
  }

  static JsonNode rules() {
    return new YAMLMapper().readTree(read(chart().resolve("rules/shepherd-rules.yaml")));
  }

  static List<String> dashboardQueries() {
    List<String> exprs = new ArrayList<>();
    dashboard()
        .path("panels")
        .forEach(p -> p.path("targets").forEach(t -> exprs.add(t.path("expr").asString())));
    return exprs;
  }

  static List<String> ruleQueries() {
    List<String> exprs = new ArrayList<>();
    rules()
        .path("groups")
        .forEach(g -> g.path("rules").forEach(r -> exprs.add(r.path("expr").asString())));
    return exprs;
  }

  static Set<String> metricsIn(List<String> queries) {
    Set<String> names = new TreeSet<>();
    for (String q : queries) {
      Matcher m = METRIC.matcher(q);
      while (m.find()) {
        names.add(m.group());
      }
    }
    return names;
  }

  /** Metric names in a Prometheus text exposition. */
  static Set<String> exposed(String scrape) {
    Set<String> names = new TreeSet<>();
    for (String line : scrape.split("\n")) {
      if (!line.isBlank() && !line.startsWith("#")) {
        int end = line.indexOf('{');
        if (end < 0) {
          end = line.indexOf(' ');
        }
        names.add(line.substring(0, end));
      }
    }
    return names;
  }

  private static String read(Path file) {
    try {
      return Files.readString(file);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
