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

/**
 * Loads the Lua scripts once per store, each with the transition table, the store's dead-job
 * retention and the shared prelude in front.
 */
final class Scripts {

  final RedisScript<String> submit;
  final RedisScript<String> reserveDue;
  final RedisScript<String> markDispatched;
  final RedisScript<String> claim;
  final RedisScript<String> renew;
  final RedisScript<String> report;
  final RedisScript<String> reap;
  final RedisScript<String> view;
  final RedisScript<String> recordDead;
  final RedisScript<String> releaseWorker;
  final RedisScript<String> abandon;
  final RedisScript<String> redrive;
  final RedisScript<String> discard;
  final RedisScript<String> requeueStale;
  final RedisScript<String> deferDue;
  final RedisScript<String> holdOutcomes;
  final RedisScript<String> trimIndexes;
  final RedisScript<String> releaseAttempts;
  final RedisScript<String> unroutable;
  final RedisScript<String> timeout;
  final RedisScript<String> cancel;

  private final java.util.Map<RedisScript<String>, String> names =
      new java.util.IdentityHashMap<>();

  private final String header;

  private RedisScript<String> load(String name) {
    String source = header + "\n" + read("prelude") + "\n" + read(name);
    RedisScript<String> script = RedisScript.of(source, String.class);
    names.put(script, name);
    return script;
  }

  Scripts(StoreSettings settings) {
    header =
        transitionTable() + "\nlocal DEAD_RETENTION_MS = " + settings.deadRetention().toMillis();
    submit = load("submit");
    reserveDue = load("reserve_due");
    markDispatched = load("mark_dispatched");
    claim = load("claim");
    renew = load("renew");
    report = load("report");
    reap = load("reap");
    view = load("view");
    recordDead = load("record_dead");
    releaseWorker = load("release_worker");
    abandon = load("abandon");
    redrive = load("redrive");
    discard = load("discard");
    requeueStale = load("requeue_stale");
    deferDue = load("defer_due");
    holdOutcomes = load("hold_outcomes");
    trimIndexes = load("trim_indexes");
    releaseAttempts = load("release_attempts");
    unroutable = load("unroutable");
    timeout = load("timeout");
    cancel = load("cancel");
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
