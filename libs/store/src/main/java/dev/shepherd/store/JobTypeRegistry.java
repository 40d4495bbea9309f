package dev.shepherd.store;

import dev.shepherd.model.Json;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import org.springframework.data.redis.core.StringRedisTemplate;

/**
 * The job types workers announce (ADR 35): one hash per installation ({@code <prefix>:types}, a
 * field per type, the latest announcement wins) and the set of every pool ever announced ({@code
 * <prefix>:pools}; submissions add their pools too, ADR 51), which recovery walks beside the
 * configured pools so that no announced pool's jobs are left out of its passes. An announcement is
 * not a job state change, so it needs no script.
 */
public final class JobTypeRegistry {

  private final StringRedisTemplate redis;
  private final String types;
  private final String pools;
  private final Clock clock;

  public JobTypeRegistry(StringRedisTemplate redis, StoreSettings settings, Clock clock) {
    this.redis = redis;
    Keys keys = new Keys(settings);
    this.types = keys.types();
    this.pools = keys.pools();
    this.clock = clock;
  }

  /**
   * Writes the worker's types, stamped with its id and now, and adds its pool to the pools ever
   * announced. Nothing to write for a worker without types.
   */
  public void announce(String workerId, String pool, List<AnnouncedType> announced) {
    if (announced.isEmpty()) {
      return;
    }
    var now = clock.instant();
    Map<String, String> fields = new LinkedHashMap<>();
    for (AnnouncedType type : announced) {
      fields.put(type.type(), Json.mapper().writeValueAsString(type.by(workerId, now)));
    }
    addPools(List.of(pool));
    redis.opsForHash().putAll(types, fields);
  }

  /** Adds pools to the pools ever announced or submitted to (ADR 51). */
  public void addPools(Collection<String> added) {
    redis.opsForSet().add(pools, added.toArray(String[]::new));
  }

  /** The latest announcement of {@code type}, however old. */
  public Optional<AnnouncedType> find(String type) {
    Object json = redis.opsForHash().get(types, type);
    return json == null
        ? Optional.empty()
        : Optional.of(Json.mapper().readValue((String) json, AnnouncedType.class));
  }

  /** Every announcement, however old, by type. */
  public List<AnnouncedType> list() {
    List<AnnouncedType> all = new ArrayList<>();
    for (Object json : redis.opsForHash().values(types)) {
      all.add(Json.mapper().readValue((String) json, AnnouncedType.class));
    }
    all.sort(Comparator.comparing(AnnouncedType::type));
    return all;
  }

  /** Every pool a worker ever announced or a job was submitted to (ADR 51), sorted. */
  public Set<String> pools() {
    Set<String> members = redis.opsForSet().members(pools);
    return members == null ? Set.of() : new TreeSet<>(members);
  }
}
