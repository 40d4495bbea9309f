package dev.shepherd.store;

import dev.shepherd.model.JobEvent;
import dev.shepherd.model.JobState;
import dev.shepherd.model.Transitions;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.stream.Collectors;
import org.springframework.data.redis.core.script.RedisScript;

/** Loads the Lua scripts once, each with the transition table and the shared prelude in front. */
final class Scripts {

  final RedisScript<String> submit = load("submit");
  final RedisScript<String> reserveDue = load("reserve_due");
  final RedisScript<String> markDispatched = load("mark_dispatched");
  final RedisScript<String> claim = load("claim");
  final RedisScript<String> renew = load("renew");
  final RedisScript<String> report = load("report");
  final RedisScript<String> reap = load("reap");
  final RedisScript<String> view = load("view");
  final RedisScript<String> recordDead = load("record_dead");
  final RedisScript<String> releaseWorker = load("release_worker");
  final RedisScript<String> abandon = load("abandon");
  final RedisScript<String> redrive = load("redrive");
  final RedisScript<String> discard = load("discard");
  final RedisScript<String> requeueStale = load("requeue_stale");
  final RedisScript<String> deferDue = load("defer_due");
  final RedisScript<String> holdOutcomes = load("hold_outcomes");

  private final java.util.Map<RedisScript<String>, String> names =
      new java.util.IdentityHashMap<>();

  private static RedisScript<String> load(String name) {
    String source = transitionTable() + "\n" + read("prelude") + "\n" + read(name);
    return RedisScript.of(source, String.class);
  }

  Scripts() {
    names.put(submit, "submit");
    names.put(reserveDue, "reserve_due");
    names.put(markDispatched, "mark_dispatched");
    names.put(claim, "claim");
    names.put(renew, "renew");
    names.put(report, "report");
    names.put(reap, "reap");
    names.put(view, "view");
    names.put(recordDead, "record_dead");
    names.put(releaseWorker, "release_worker");
    names.put(abandon, "abandon");
    names.put(redrive, "redrive");
    names.put(discard, "discard");
    names.put(requeueStale, "requeue_stale");
    names.put(deferDue, "defer_due");
    names.put(holdOutcomes, "hold_outcomes");
  }

  String nameOf(RedisScript<String> script) {
    return names.getOrDefault(script, "unknown");
  }

  /** Renders {@link Transitions} as a Lua table literal: {@code T['RUNNING']['SUCCEED']}. */
  static String transitionTable() {
    return Transitions.table().entrySet().stream()
        .map(row -> "%s = {%s}".formatted(row.getKey(), renderRow(row.getValue())))
        .collect(Collectors.joining(",\n  ", "local T = {\n  ", "\n}"));
  }

  private static String renderRow(Map<JobEvent, JobState> row) {
    return row.entrySet().stream()
        .map(e -> "%s = '%s'".formatted(e.getKey(), e.getValue()))
        .collect(Collectors.joining(", "));
  }

  private static String read(String name) {
    try (InputStream in = Scripts.class.getResourceAsStream("/lua/" + name + ".lua")) {
      if (in == null) {
        throw new IllegalStateException("missing Lua script /lua/" + name + ".lua");
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
