package dev.shepherd.store;

import dev.shepherd.model.JobEvent;
import dev.shepherd.model.JobState;
import dev.shepherd.model.Transitions;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.EnumMap;
import java.util.Map;
import java.util.stream.Collectors;
import org.springframework.data.redis.core.script.RedisScript;

/**
 * Loads every {@link Script} once per store, each with the transition table, the store's dead-job
 * retention, the key helpers rendered from {@link Keys} and the shared prelude in front.
 */
final class Scripts {

  private final Map<Script, RedisScript<String>> loaded = new EnumMap<>(Script.class);
  private final Map<Script, byte[]> sha1Bytes = new EnumMap<>(Script.class);

  Scripts(StoreSettings settings) {
    for (Script script : Script.values()) {
      RedisScript<String> redisScript =
          RedisScript.of(withPrelude(settings, read(script.file)), String.class);
      loaded.put(script, redisScript);
      sha1Bytes.put(script, redisScript.getSha1().getBytes(StandardCharsets.US_ASCII));
    }
  }

  /**
   * {@code body} as the store runs it: after {@link #transitionTable()}, {@code DEAD_RETENTION_MS},
   * {@link Keys#luaHelpers()} and {@code prelude.lua}.
   */
  static String withPrelude(StoreSettings settings, String body) {
    return String.join(
        "\n",
        transitionTable(),
        "local DEAD_RETENTION_MS = " + settings.deadRetention().toMillis(),
        Keys.luaHelpers(),
        read("prelude"),
        body);
  }

  RedisScript<String> get(Script script) {
    return loaded.get(script);
  }

  /**
   * The SHA-1 of {@code script} as the bytes an {@code EVALSHA} sends, encoded once: the blocking
   * client sends it on every call of a job's path, and {@link RedisScript#getSha1} takes a lock.
   */
  byte[] sha1Bytes(Script script) {
    return sha1Bytes.get(script);
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
