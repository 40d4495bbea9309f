package dev.shepherd.distribution.kubernetes;

import dev.shepherd.distribution.DistributorConfig;
import dev.shepherd.distribution.InvalidDistributorConfigException.Problem;
import dev.shepherd.model.Json;
import io.fabric8.kubernetes.api.model.Quantity;
import java.math.BigDecimal;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;

/**
 * A {@code kubernetes-job} type's settings, parsed from the flat strings of its {@link
 * DistributorConfig}, with one problem per wrong setting. {@link KubernetesJobDistributor} reads
 * every setting through here, so a value is parsed and defaulted in one place.
 *
 * @param command the container's command, or null for the image's entrypoint
 * @param cpu the CPU request and limit, or null for none
 * @param memory the memory request and limit, or null for none
 * @param logsUrl the template of a pod's logs URL, or null for the API server's log path
 */
record JobSettings(
    String namespace,
    String image,
    List<String> command,
    String serviceAccount,
    Quantity cpu,
    Quantity memory,
    Duration ttlAfterFinished,
    Duration timeToStart,
    Duration timeToRun,
    String logsUrl) {

  static final Set<String> NAMES =
      new TreeSet<>(
          List.of(
              "namespace",
              "image",
              "command",
              "serviceAccount",
              "cpu",
              "memory",
              "ttlAfterFinished",
              "timeToStart",
              "timeToRun",
              "logsUrl"));

  /** How long a finished Job (and its pod and logs) stays before Kubernetes deletes it. */
  static final Duration DEFAULT_TTL_AFTER_FINISHED = Duration.ofHours(1);

  /** A DNS-1123 label: a namespace's name. */
  private static final Pattern LABEL = Pattern.compile("[a-z0-9]([-a-z0-9]*[a-z0-9])?");

  /** A DNS-1123 subdomain: a service account's name. */
  private static final Pattern SUBDOMAIN =
      Pattern.compile("[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*");

  /** The settings of a configuration {@link #problems} found nothing wrong with. */
  static JobSettings of(DistributorConfig config) {
    return new JobSettings(
        config.setting("namespace"),
        config.setting("image"),
        command(config.setting("command")),
        config.setting("serviceAccount"),
        quantity(config.setting("cpu")),
        quantity(config.setting("memory")),
        config.setting("ttlAfterFinished") == null
            ? DEFAULT_TTL_AFTER_FINISHED
            : duration(config.setting("ttlAfterFinished"), true),
        duration(config.setting("timeToStart"), false),
        duration(config.setting("timeToRun"), false),
        config.setting("logsUrl"));
  }

  /** Everything wrong with a type's settings, one problem per setting; empty when none. */
  static List<Problem> problems(String type, DistributorConfig config) {
    var problems = new ArrayList<Problem>();
    String namespace = config.setting("namespace");
    if (namespace == null) {
      problems.add(new Problem(type, "namespace", "is required (where the Jobs are created)"));
    } else if (namespace.length() > 63 || !LABEL.matcher(namespace).matches()) {
      problems.add(
          new Problem(
              type,
              "namespace",
              "must be a DNS-1123 label (lower case, digits, '-'), was '" + namespace + "'"));
    }
    String image = config.setting("image");
    if (image == null || image.isBlank()) {
      problems.add(new Problem(type, "image", "is required (the container image each Job runs)"));
    } else if (!image.equals(image.strip()) || image.chars().anyMatch(Character::isWhitespace)) {
      problems.add(new Problem(type, "image", "must not contain spaces, was '" + image + "'"));
    }
    String command = config.setting("command");
    if (command != null && command(command) == null) {
      problems.add(
          new Problem(
              type,
              "command",
              "must be a JSON array of strings (\"[\\\"python\\\", \\\"render.py\\\"]\"), was '"
                  + command
                  + "'"));
    }
    String account = config.setting("serviceAccount");
    if (account != null && (account.length() > 253 || !SUBDOMAIN.matcher(account).matches())) {
      problems.add(
          new Problem(
              type,
              "serviceAccount",
              "must be a service account's name (DNS-1123 subdomain), was '" + account + "'"));
    }
    for (String name : List.of("cpu", "memory")) {
      String value = config.setting(name);
      if (value != null && quantity(value) == null) {
        problems.add(
            new Problem(
                type,
                name,
                "must be a positive Kubernetes quantity (500m, 2, 512Mi), was '" + value + "'"));
      }
    }
    String ttl = config.setting("ttlAfterFinished");
    if (ttl != null && duration(ttl, true) == null) {
      problems.add(
          new Problem(
              type,
              "ttlAfterFinished",
              "must be an ISO-8601 duration of 0 or more whole seconds (PT1H), was '" + ttl + "'"));
    }
    for (String name : List.of("timeToStart", "timeToRun")) {
      String value = config.setting(name);
      if (value != null && duration(value, false) == null) {
        problems.add(
            new Problem(
                type, name, "must be a positive ISO-8601 duration (PT30S), was '" + value + "'"));
      }
    }
    String logs = config.setting("logsUrl");
    if (logs != null
        && !DistributorConfig.isHttpUrl(logs.replace("{namespace}", "n").replace("{pod}", "p"))) {
      problems.add(
          new Problem(
              type,
              "logsUrl",
              "must be an absolute http or https URL ({namespace} and {pod} are replaced), was '"
                  + logs
                  + "'"));
    }
    config.settings().keySet().stream()
        .filter(name -> !NAMES.contains(name))
        .forEach(
            name ->
                problems.add(new Problem(type, name, "is not a kubernetes-job setting " + NAMES)));
    return problems;
  }

  /** The Kubernetes deadline of a Job that asks for a time to run: see {@link #activeDeadline}. */
  Long activeDeadlineSeconds() {
    Duration deadline = activeDeadline();
    return deadline == null ? null : Math.max(1, deadline.toSeconds());
  }

  /**
   * The time to start and the time to run together, bounding the Job from its creation: the worker
   * enforces both itself, earlier; this bounds a Job whose worker died.
   */
  Duration activeDeadline() {
    if (timeToRun == null) {
      return null;
    }
    return timeToStart == null ? timeToRun : timeToStart.plus(timeToRun);
  }

  /** A JSON array of strings, or null when the value is not one. */
  private static List<String> command(String value) {
    if (value == null) {
      return null;
    }
    try {
      JsonNode node = Json.mapper().readTree(value);
      if (node == null || !node.isArray() || node.isEmpty()) {
        return null;
      }
      var words = new ArrayList<String>();
      for (JsonNode word : node) {
        if (!word.isString()) {
          return null;
        }
        words.add(word.asString());
      }
      return List.copyOf(words);
    } catch (JacksonException e) {
      return null;
    }
  }

  private static Quantity quantity(String value) {
    if (value == null) {
      return null;
    }
    try {
      Quantity quantity = new Quantity(value);
      return quantity.getNumericalAmount().compareTo(BigDecimal.ZERO) > 0 ? quantity : null;
    } catch (IllegalArgumentException | ArithmeticException e) {
      return null;
    }
  }

  private static Duration duration(String value, boolean zeroAllowed) {
    if (value == null) {
      return null;
    }
    try {
      Duration d = Duration.parse(value);
      boolean sign = zeroAllowed ? !d.isNegative() : d.isPositive();
      boolean fits = d.toSeconds() <= Integer.MAX_VALUE;
      return sign && fits ? d : null;
    } catch (DateTimeParseException e) {
      return null;
    }
  }
}
