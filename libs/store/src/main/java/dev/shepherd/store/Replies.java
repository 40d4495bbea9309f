package dev.shepherd.store;

import dev.shepherd.model.AttemptTask;
import dev.shepherd.model.DeadJob;
import dev.shepherd.model.JobEvent;
import dev.shepherd.model.JobState;
import dev.shepherd.model.JobView;
import dev.shepherd.model.Json;
import dev.shepherd.model.PhaseView;
import dev.shepherd.model.TraceParent;
import dev.shepherd.model.TransitionRecord;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/** Reads the scripts' JSON replies and the stored JSON into records. */
final class Replies {

  private Replies() {}

  /** cjson encodes an empty Lua table as {@code {}}: read it as an empty list. */
  static List<JsonNode> list(JsonNode node) {
    List<JsonNode> out = new ArrayList<>();
    if (node instanceof ArrayNode array) {
      array.forEach(out::add);
    }
    return out;
  }

  /** A list of strings, such as job ids. */
  static List<String> strings(JsonNode node) {
    return list(node).stream().map(JsonNode::asString).toList();
  }

  /** A flat {@code [field, value, field, value, ...]} list, as HGETALL returns it. */
  static Map<String, String> pairs(JsonNode flat) {
    Map<String, String> map = new HashMap<>();
    List<JsonNode> items = list(flat);
    for (int i = 0; i + 1 < items.size(); i += 2) {
      map.put(items.get(i).asString(), items.get(i + 1).asString());
    }
    return map;
  }

  /** Epoch millis as the scripts store them; null or empty for none. */
  static Instant millis(String value) {
    return value == null || value.isEmpty() ? null : Instant.ofEpochMilli(Long.parseLong(value));
  }

  /** The {@code reaped} list of a reply that released leases. */
  static List<ReapedLease> reapedLeases(JsonNode reply) {
    List<ReapedLease> reaped = new ArrayList<>();
    for (JsonNode r : list(reply.get("reaped"))) {
      reaped.add(
          new ReapedLease(
              r.get("id").asString(),
              r.path("worker").asString(null),
              r.get("attempt").asInt(),
              r.get("state").asString(),
              r.path("type").asString(null),
              r.path("pool").asString(null)));
    }
    return reaped;
  }

  /** The {@code entries} of a {@code reserve_due.lua} reply. */
  static List<DueEntry> dueEntries(JsonNode reply) {
    List<DueEntry> entries = new ArrayList<>();
    for (JsonNode e : list(reply.get("entries"))) {
      entries.add(
          new DueEntry(
              e.get("id").asString(),
              e.get("type").asString(),
              e.get("pool").asString(),
              e.get("attempt").asInt(),
              e.get("payload").asString(),
              Instant.ofEpochMilli(Long.parseLong(e.get("submittedAt").asString())),
              e.path("traceparent").asString(null),
              e.path("submitter").asString(null)));
    }
    return entries;
  }

  /** The {@code timedOut} list of a {@code timeout.lua} reply. */
  static List<TimedOutAttempt> timedOutAttempts(JsonNode reply) {
    List<TimedOutAttempt> out = new ArrayList<>();
    for (JsonNode t : list(reply.get("timedOut"))) {
      String timeout = t.get("timeout").asString();
      out.add(
          new TimedOutAttempt(
              t.get("id").asString(),
              t.path("worker").asString(null),
              t.get("attempt").asInt(),
              JobState.valueOf(t.get("state").asString()),
              t.path("type").asString(null),
              t.path("pool").asString(null),
              TimedOutAttempt.Timeout.ofLabel(timeout),
              t.hasNonNull("token") ? Long.parseLong(t.get("token").asString()) : 0,
              timeout.startsWith("phase:") ? timeout.substring("phase:".length()) : null));
    }
    return out;
  }

  /** A stored dead-job record; a script writes its times as epoch millis, Java as ISO-8601. */
  static DeadJob deadJob(String json) {
    ObjectNode node = (ObjectNode) Json.mapper().readTree(json);
    for (String field : List.of("at", "discardedAt")) {
      JsonNode value = node.get(field);
      if (value != null
          && value.isString()
          && value.asString().chars().allMatch(Character::isDigit)) {
        node.put(field, Instant.ofEpochMilli(Long.parseLong(value.asString())).toString());
      }
    }
    return Json.mapper().treeToValue(node, DeadJob.class);
  }

  /** The reply of {@code view.lua} for a job it found. */
  static JobView jobView(String jobId, JsonNode reply) {
    Map<String, String> job = pairs(reply.get("job"));
    List<TransitionRecord> history = new ArrayList<>();
    for (JsonNode line : list(reply.get("history"))) {
      JsonNode h = Json.mapper().readTree(line.asString());
      history.add(
          new TransitionRecord(
              millis(h.path("at").asString(null)),
              h.hasNonNull("from") ? JobState.valueOf(h.get("from").asString()) : null,
              JobState.valueOf(h.get("to").asString()),
              "SUBMIT".equals(h.get("event").asString())
                  ? null
                  : JobEvent.valueOf(h.get("event").asString()),
              h.path("attempt").asInt(),
              h.path("reason").asString(null),
              h.hasNonNull("fencingToken") ? Long.valueOf(h.get("fencingToken").asString()) : null,
              h.path("workerId").asString(null)));
    }
    return new JobView(
        jobId,
        job.get("type"),
        job.get("pool"),
        JobState.valueOf(job.get("state")),
        Integer.parseInt(job.get("attempt")),
        Integer.parseInt(job.get("maxAttempts")),
        Json.mapper().readTree(job.get("payload")),
        producersKey(job.get("idempotencyKey"), job.get("tenant")),
        job.get("orderingKey"),
        job.get("concurrencyKey"),
        job.containsKey("txn") ? Long.valueOf(job.get("txn")) : null,
        millis(job.get("submittedAt")),
        millis(job.get("notBefore")),
        millis(job.get("finishedAt")),
        job.get("worker"),
        job.containsKey("progress") ? Integer.valueOf(job.get("progress")) : null,
        job.get("progressMessage"),
        job.get("lastError"),
        job.get("cancelledBy"),
        millis(job.get("cancelledAt")),
        TraceParent.stored(job.get("traceparent"), jobId).map(TraceParent::traceId).orElse(null),
        phaseViews(pairs(reply.get("phases"))),
        history,
        job.get("tenant"),
        job.containsKey("tasks") ? tasks(job.get("tasks")) : null);
  }

  /** The attempts' tasks, as record_task.lua keeps them: a JSON list, one entry per attempt. */
  private static List<AttemptTask> tasks(String json) {
    List<AttemptTask> tasks = new ArrayList<>();
    for (JsonNode t : Json.mapper().readTree(json)) {
      Map<String, String> settings = new TreeMap<>();
      t.path("settings")
          .properties()
          .forEach(e -> settings.put(e.getKey(), e.getValue().asString()));
      tasks.add(
          new AttemptTask(
              t.path("attempt").asInt(),
              t.path("distributor").asString(null),
              t.path("task").asString(null),
              t.path("infoUrl").asString(null),
              settings));
    }
    return tasks;
  }

  /** Phase times stored as {@code attempt|name|start} or {@code attempt|name|end}: epoch millis. */
  private static List<PhaseView> phaseViews(Map<String, String> phases) {
    Map<String, Instant[]> byPhase = new TreeMap<>();
    Map<String, Integer> attempts = new HashMap<>();
    for (var e : phases.entrySet()) {
      String[] parts = e.getKey().split("\\|");
      String key = parts[0] + "|" + parts[1];
      attempts.put(key, Integer.parseInt(parts[0]));
      Instant[] times = byPhase.computeIfAbsent(key, k -> new Instant[2]);
      times["start".equals(parts[2]) ? 0 : 1] = millis(e.getValue());
    }
    List<PhaseView> views = new ArrayList<>();
    byPhase.forEach(
        (key, times) ->
            views.add(
                new PhaseView(
                    attempts.get(key),
                    key.substring(key.indexOf('|') + 1),
                    times[0],
                    times[1],
                    times[0] != null && times[1] != null
                        ? Duration.between(times[0], times[1]).toMillis()
                        : null)));
    views.sort(
        Comparator.comparingInt(PhaseView::attempt)
            .thenComparing(v -> v.startedAt() == null ? Instant.MAX : v.startedAt()));
    return views;
  }

  /**
   * The idempotency key as the producer gave it: a tenant's job stores it as {@code <tenant>:<key>}
   * (submit.lua, ADR 40).
   */
  static String producersKey(String stored, String tenant) {
    if (stored == null || tenant == null || tenant.isEmpty()) {
      return stored;
    }
    return stored.startsWith(tenant + ":") ? stored.substring(tenant.length() + 1) : stored;
  }
}
