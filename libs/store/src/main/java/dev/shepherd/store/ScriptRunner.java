package dev.shepherd.store;

import dev.shepherd.model.Json;
import dev.shepherd.model.MetricNames;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.springframework.data.redis.core.StringRedisTemplate;
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
    String json =
        redis.execute(scripts.get(script), List.of(keys.base(partition)), (Object[]) args);
    return Json.mapper().readTree(json);
  }

  JsonNode run(Script script, int partition, List<String> args) {
    return run(script, partition, args.toArray(String[]::new));
  }
}
