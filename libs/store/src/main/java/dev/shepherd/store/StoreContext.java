package dev.shepherd.store;

import java.time.Clock;
import java.util.List;
import java.util.function.IntFunction;
import java.util.function.ObjIntConsumer;
import org.springframework.data.redis.core.StringRedisTemplate;
import tools.jackson.databind.JsonNode;

/**
 * What every store type is built from: Redis, the settings, the key builder, the clock every
 * timestamp comes from, and the runner of the scripts. One per {@link Store}.
 */
record StoreContext(
    StringRedisTemplate redis,
    StoreSettings settings,
    Keys keys,
    Clock clock,
    ScriptRunner scripts) {

  /** Runs a script on a partition: {@link ScriptRunner#run(Script, int, String...)}. */
  JsonNode run(Script script, int partition, String... args) {
    return scripts.run(script, partition, args);
  }

  JsonNode run(Script script, int partition, List<String> args) {
    return scripts.run(script, partition, args);
  }

  /** Runs a script once per call, together where it can: {@link ScriptRunner#runEach}. */
  List<Object> runEach(Script script, List<ScriptRunner.PartitionCall> calls) {
    return scripts.runEach(script, calls);
  }

  /**
   * Runs a script on the partitions from {@code from} on, at once: {@link ScriptRunner#runOnEvery}.
   */
  void runOnEvery(
      Script script, int from, IntFunction<String[]> args, ObjIntConsumer<JsonNode> each) {
    scripts.runOnEvery(script, from, args, each);
  }

  /** Now, in epoch millis, as the scripts take it. */
  String now() {
    return Long.toString(clock.millis());
  }

  /** How long finished jobs are kept, in millis, as the scripts take it. */
  String retention() {
    return Long.toString(settings.retention().toMillis());
  }

  /** The late-outcome grace of a released last attempt, in millis, as the scripts take it. */
  String lateOutcomeGrace() {
    return Long.toString(settings.lateOutcomeGrace().toMillis());
  }
}
