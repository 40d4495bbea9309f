package dev.shepherd.engine.recovery;

import dev.shepherd.store.JobTypeRegistry;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The worker pools recovery walks: the configured ones and every pool a worker ever announced (ADR
 * 35), so that the jobs of a pool no configuration names are requeued, trimmed and counted too. The
 * announced ones are read from Redis at most once per {@code refresh}; a failed read keeps the
 * pools known so far. A pool never leaves: its queue and its jobs may outlive its workers.
 */
public final class KnownPools implements Supplier<Set<String>> {

  private static final Logger log = LoggerFactory.getLogger(KnownPools.class);

  private final Set<String> configured;
  private final JobTypeRegistry registry;
  private final Clock clock;
  private final Duration refresh;
  private final List<Consumer<String>> onNew = new CopyOnWriteArrayList<>();
  private volatile Set<String> known;
  private Instant readAt = Instant.MIN; // guarded by this

  /**
   * @param registry where workers announce their pools; null for the configured pools alone
   */
  public KnownPools(
      Collection<String> configured, JobTypeRegistry registry, Clock clock, Duration refresh) {
    this.configured = Set.copyOf(configured);
    this.registry = registry;
    this.clock = clock;
    this.refresh = refresh;
    this.known = new TreeSet<>(configured);
  }

  /** Calls {@code listener} with each pool known now and each one that appears later. */
  public synchronized void forEachPool(Consumer<String> listener) {
    onNew.add(listener);
    known.forEach(listener);
  }

  /** The pools known now, reading the announced ones when the last read is older than refresh. */
  @Override
  public Set<String> get() {
    List<String> appeared = new ArrayList<>();
    synchronized (this) {
      Instant now = clock.instant();
      if (registry != null && !readAt.plus(refresh).isAfter(now)) {
        readAt = now;
        try {
          Set<String> all = new TreeSet<>(configured);
          all.addAll(registry.pools());
          all.stream().filter(p -> !known.contains(p)).forEach(appeared::add);
          all.addAll(known);
          known = all;
        } catch (RuntimeException e) {
          log.warn("could not read the announced worker pools: {}", e.toString());
        }
      }
    }
    for (String pool : appeared) {
      log.info("worker pool {} was announced; recovery walks it from now on", pool);
      onNew.forEach(listener -> listener.accept(pool));
    }
    return known;
  }
}
