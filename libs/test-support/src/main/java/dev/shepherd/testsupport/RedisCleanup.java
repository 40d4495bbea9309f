package dev.shepherd.testsupport;

import java.util.ArrayList;
import java.util.List;
import org.springframework.data.redis.connection.RedisConnectionFactory;
import org.springframework.data.redis.core.ScanOptions;
import org.springframework.data.redis.core.StringRedisTemplate;

/** Deletes what a test wrote to the shared Redis: every key under its prefix. */
public final class RedisCleanup {

  private RedisCleanup() {}

  /** Returns how many keys were deleted. */
  public static long deleteByPrefix(RedisConnectionFactory factory, String prefix) {
    var template = new StringRedisTemplate(factory);
    List<String> keys = new ArrayList<>();
    try (var cursor =
        template.scan(ScanOptions.scanOptions().match(prefix + ":*").count(1000).build())) {
      cursor.forEachRemaining(keys::add);
    }
    long deleted = 0;
    for (int i = 0; i < keys.size(); i += 500) {
      Long n = template.unlink(keys.subList(i, Math.min(keys.size(), i + 500)));
      deleted += n == null ? 0 : n;
    }
    return deleted;
  }
}
