package dev.shepherd.testsupport;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.springframework.data.redis.connection.DataType;
import org.springframework.data.redis.connection.RedisConnectionFactory;
import org.springframework.data.redis.core.ScanOptions;
import org.springframework.data.redis.core.StringRedisTemplate;

/**
 * Scans every key under a prefix for what points at nothing: a job's history, phases or lease
 * without the job, an idempotency key naming a missing job, an index member whose job or dead-job
 * record is gone, a dead-job record no index lists. The key layout is the one
 * libs/store/src/main/resources/lua/prelude.lua writes.
 */
public final class RedisOrphans {

  private static final Pattern PARTITION_KEY = Pattern.compile("(.*:\\{p\\d+\\}:)(.*)");
  private static final Pattern JOB_PART = Pattern.compile("job:(.+):(history|phases)");
  private static final Set<String> RECORD_INDEXES = Set.of("dead", "discarded");

  private RedisOrphans() {}

  /** Every key under {@code prefix}. */
  public static List<String> keys(RedisConnectionFactory factory, String prefix) {
    var redis = new StringRedisTemplate(factory);
    List<String> keys = new ArrayList<>();
    try (var cursor =
        redis.scan(ScanOptions.scanOptions().match(prefix + ":*").count(1000).build())) {
      cursor.forEachRemaining(keys::add);
    }
    return keys;
  }

  /** One line per orphan found under {@code prefix}; empty when there is none. */
  public static List<String> find(RedisConnectionFactory factory, String prefix) {
    var redis = new StringRedisTemplate(factory);
    List<String> orphans = new ArrayList<>();
    for (String key : keys(factory, prefix)) {
      Matcher m = PARTITION_KEY.matcher(key);
      if (!m.matches()) {
        continue; // installation-wide keys (the worker registry) point at nothing
      }
      String base = m.group(1);
      String rest = m.group(2);
      Matcher part = JOB_PART.matcher(rest);
      if (part.matches()) {
        requireKey(redis, base + "job:" + part.group(1), key, orphans);
      } else if (rest.startsWith("lease:")) {
        requireKey(redis, base + "job:" + rest.substring("lease:".length()), key, orphans);
      } else if (rest.startsWith("idem:")) {
        String id = redis.opsForValue().get(key);
        requireKey(redis, base + "job:" + id, key, orphans);
      } else if (rest.startsWith("deadrec:")) {
        String id = rest.substring("deadrec:".length());
        if (redis.opsForZSet().score(base + "dead", id) == null
            && redis.opsForZSet().score(base + "discarded", id) == null) {
          orphans.add(key + " is listed by neither the dead nor the discarded index");
        }
      } else if (redis.type(key) == DataType.ZSET) {
        String target = RECORD_INDEXES.contains(rest) ? "deadrec:" : "job:";
        try (var members =
            redis.opsForZSet().scan(key, ScanOptions.scanOptions().count(1000).build())) {
          members.forEachRemaining(
              t -> requireKey(redis, base + target + t.getValue(), key + " member", orphans));
        }
      }
    }
    return orphans;
  }

  private static void requireKey(
      StringRedisTemplate redis, String target, String what, List<String> orphans) {
    if (!Boolean.TRUE.equals(redis.hasKey(target))) {
      orphans.add(what + " points at missing " + target);
    }
  }
}
