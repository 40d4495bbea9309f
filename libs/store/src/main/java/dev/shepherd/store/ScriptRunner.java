package dev.shepherd.store;

import dev.shepherd.model.Json;
import dev.shepherd.model.MetricNames;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.springframework.data.redis.connection.RedisConnection;
import org.springframework.data.redis.connection.ReturnType;
import org.springframework.data.redis.core.RedisCallback;
import org.springframework.data.redis.core.StringRedisTemplate;
import org.springframework.data.redis.core.script.RedisScript;
import tools.jackson.databind.JsonNode;

/**
 * Runs one {@link Script} on one partition (its key base is the script's only key) and reads the
 * JSON reply. Every call counts on {@link MetricNames#REDIS_CALLS}, tagged with the script, in the
 * registry it was given. A partition of -1 (a foreign job id) runs nothing and reads as {@code
 * {"outcome":"MISSING","found":false}}.
 */
final class ScriptRunner {

  private final StringRedisTemplate redis;
  private final Keys keys;
  private final Scripts scripts;
  private final MeterRegistry meters;
  private final Map<Script, Counter> calls = new ConcurrentHashMap<>();

  ScriptRunner(StringRedisTemplate redis, Keys keys, Scripts scripts, MeterRegistry meters) {
    this.redis = redis;
    this.keys = keys;
    this.scripts = scripts;
    this.meters = meters;
  }

  JsonNode run(Script script, int partition, String... args) {
    if (partition < 0) {
      return Json.mapper().readTree("{\"outcome\":\"MISSING\",\"found\":false}");
    }
    calls
        .computeIfAbsent(script, s -> meters.counter(MetricNames.REDIS_CALLS, "op", s.file))
        .increment();
    RedisScript<String> redisScript = scripts.get(script);
    byte[][] keysAndArgs = new byte[1 + args.length][];
    keysAndArgs[0] = keys.base(partition).getBytes(StandardCharsets.UTF_8);
    for (int i = 0; i < args.length; i++) {
      keysAndArgs[i + 1] = args[i].getBytes(StandardCharsets.UTF_8);
    }
    // on the connection itself, not a proxy of it made per call (RedisTemplate's default), and
    // without the script executor's lookups: this runs several times per job
    byte[] reply =
        redis.execute((RedisCallback<byte[]>) c -> eval(c, redisScript, keysAndArgs), true);
    return Json.mapper().readTree(reply);
  }

  /** EVALSHA, and EVAL when Redis does not know the script (it restarted, or was flushed). */
  private static byte[] eval(RedisConnection c, RedisScript<String> script, byte[][] keysAndArgs) {
    try {
      return c.scriptingCommands().evalSha(script.getSha1(), ReturnType.VALUE, 1, keysAndArgs);
    } catch (RuntimeException e) {
      if (!isNoScript(e)) {
        throw e;
      }
      return c.scriptingCommands()
          .eval(
              script.getScriptAsString().getBytes(StandardCharsets.UTF_8),
              ReturnType.VALUE,
              1,
              keysAndArgs);
    }
  }

  private static boolean isNoScript(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t.getMessage() != null && t.getMessage().contains("NOSCRIPT")) {
        return true;
      }
    }
    return false;
  }

  JsonNode run(Script script, int partition, List<String> args) {
    return run(script, partition, args.toArray(String[]::new));
  }
}
