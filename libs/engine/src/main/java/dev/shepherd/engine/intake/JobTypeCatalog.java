package dev.shepherd.engine.intake;

import dev.shepherd.contracts.Contracts;
import dev.shepherd.messaging.Topology;
import dev.shepherd.model.BatchLimits;
import dev.shepherd.model.JobTimeouts;
import dev.shepherd.model.JobTypeView;
import dev.shepherd.model.Json;
import dev.shepherd.model.WorkerView;
import dev.shepherd.store.AnnouncedType;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import tools.jackson.databind.JsonNode;

/**
 * The job types this installation accepts: a type is known when a configured worker pool consumes
 * it or a worker announced it (ADR 35, {@link #withAnnounced}), and each may set its own default
 * number of attempts and its attempts' timeouts, its concurrency limits, what its keyed jobs do to
 * their key when they end DEAD, and whether it takes batches.
 */
public record JobTypeCatalog(
    Topology topology,
    Map<String, Integer> maxAttempts,
    int defaultMaxAttempts,
    Map<String, JobTimeouts> timeouts,
    ConcurrencyLimits concurrencyLimits,
    Set<String> typesThatBlockTheirKey,
    Map<String, BatchLimits> batches,
    AnnouncedTypes announced) {

  public JobTypeCatalog {
    maxAttempts = Map.copyOf(maxAttempts);
    timeouts = timeouts == null ? Map.of() : Map.copyOf(timeouts);
    concurrencyLimits = concurrencyLimits == null ? ConcurrencyLimits.DEFAULT : concurrencyLimits;
    typesThatBlockTheirKey =
        typesThatBlockTheirKey == null ? Set.of() : Set.copyOf(typesThatBlockTheirKey);
    batches = batches == null ? Map.of() : Map.copyOf(batches);
  }

  public JobTypeCatalog(
      Topology topology,
      Map<String, Integer> maxAttempts,
      int defaultMaxAttempts,
      Map<String, JobTimeouts> timeouts,
      ConcurrencyLimits concurrencyLimits,
      Set<String> typesThatBlockTheirKey,
      Map<String, BatchLimits> batches) {
    this(
        topology,
        maxAttempts,
        defaultMaxAttempts,
        timeouts,
        concurrencyLimits,
        typesThatBlockTheirKey,
        batches,
        null);
  }

  public JobTypeCatalog(
      Topology topology,
      Map<String, Integer> maxAttempts,
      int defaultMaxAttempts,
      Map<String, JobTimeouts> timeouts,
      ConcurrencyLimits concurrencyLimits,
      Set<String> typesThatBlockTheirKey) {
    this(
        topology,
        maxAttempts,
        defaultMaxAttempts,
        timeouts,
        concurrencyLimits,
        typesThatBlockTheirKey,
        null);
  }

  /** This catalog, accepting the types workers announce too (ADR 35). */
  public JobTypeCatalog withAnnounced(AnnouncedTypes types) {
    return new JobTypeCatalog(
        topology,
        maxAttempts,
        defaultMaxAttempts,
        timeouts,
        concurrencyLimits,
        typesThatBlockTheirKey,
        batches,
        types);
  }

  /** Whether the scheduler's configuration names a pool for {@code type}. */
  public boolean isConfigured(String type) {
    return topology.poolOf(type) != null;
  }

  /**
   * The type's announcement while it counts; empty when none, when announcements are off, and for a
   * configured type: the configuration wins whole (pool, attempts, timeouts, schema).
   */
  public Optional<AnnouncedType> announcement(String type) {
    return announced == null || isConfigured(type) ? Optional.empty() : announced.find(type);
  }

  public JobTypeCatalog(
      Topology topology,
      Map<String, Integer> maxAttempts,
      int defaultMaxAttempts,
      Map<String, JobTimeouts> timeouts,
      ConcurrencyLimits concurrencyLimits) {
    this(topology, maxAttempts, defaultMaxAttempts, timeouts, concurrencyLimits, null);
  }

  public JobTypeCatalog(
      Topology topology,
      Map<String, Integer> maxAttempts,
      int defaultMaxAttempts,
      Map<String, JobTimeouts> timeouts) {
    this(topology, maxAttempts, defaultMaxAttempts, timeouts, null, null);
  }

  public JobTypeCatalog(
      Topology topology, Map<String, Integer> maxAttempts, int defaultMaxAttempts) {
    this(topology, maxAttempts, defaultMaxAttempts, Map.of());
  }

  /**
   * Whether jobs of {@code type} are accepted: the configuration names a pool for it, or a worker
   * announced it recently enough.
   */
  public boolean isKnown(String type) {
    return isConfigured(type) || announcement(type).isPresent();
  }

  /** The pool of {@code type}: the configured one, else the announcing worker's; null for none. */
  public String poolOf(String type) {
    String configured = topology.poolOf(type);
    return configured != null
        ? configured
        : announcement(type).map(AnnouncedType::pool).orElse(null);
  }

  /** The configured attempts of {@code type}, else its announced ones, else the default. */
  public int maxAttemptsOf(String type) {
    Integer configured = maxAttempts.get(type);
    if (configured != null) {
      return configured;
    }
    return announcement(type)
        .map(AnnouncedType::maxAttempts)
        .filter(n -> n != null && n > 0)
        .orElse(defaultMaxAttempts);
  }

  /**
   * The payload schema a worker announced for {@code type}, compiled; empty when the type ships a
   * schema of Shepherd's own (which wins), is configured, or carries none. A configured type's
   * announced schema is ignored too: its workers may be older or newer than one another, and the
   * configuration is what the operator decided.
   *
   * @throws IllegalArgumentException when the announced schema does not compile
   */
  public Optional<dev.shepherd.contracts.Contracts.PayloadSchema> announcedSchemaOf(String type) {
    return announcement(type).flatMap(announced::schemaOf);
  }

  /** How many jobs of {@code type} with concurrency key {@code key} may run at once (ADR 30). */
  public int concurrencyLimitOf(String type, String key) {
    return concurrencyLimits.limitOf(type, key);
  }

  /**
   * Whether a job of {@code type} with an ordering key that ends DEAD holds its key's later jobs
   * back until an operator redrives or discards it (the {@code block} policy), rather than letting
   * the next one go ({@code skip}, the default).
   */
  public boolean blocksItsKey(String type) {
    return typesThatBlockTheirKey.contains(type);
  }

  /**
   * How large the transactions of {@code type} may grow when its jobs carry an ordering key (ADR
   * 31); null when the type takes no batches.
   */
  public BatchLimits batchOf(String type) {
    return batches.get(type);
  }

  /**
   * The type's attempt timeouts: the configured ones, else the announced ones, else {@link
   * JobTimeouts#NONE}.
   */
  public JobTimeouts timeoutsOf(String type) {
    JobTimeouts configured = timeouts.get(type);
    if (configured != null) {
      return configured;
    }
    return announcement(type)
        .map(AnnouncedType::timeouts)
        .filter(t -> t != null)
        .orElse(JobTimeouts.NONE);
  }

  /**
   * Every type accepted now, as {@code GET /api/v1/types} lists them: the configured ones, then
   * those only announced, sorted by type; each with the live workers of {@code workers} that run it
   * (a worker that names no types counts for every type of its pool).
   */
  public List<JobTypeView> views(List<WorkerView> workers) {
    Map<String, AnnouncedType> latest = new TreeMap<>();
    if (announced != null) {
      announced.all().forEach(a -> latest.put(a.type(), a));
    }
    Map<String, JobTypeView> views = new TreeMap<>();
    for (var pool : topology.pools().entrySet()) {
      for (String type : pool.getValue()) {
        AnnouncedType announcement = latest.get(type);
        JsonNode schema =
            Contracts.shared().hasPayloadSchema(type)
                ? Json.mapper().readTree(Contracts.payloadSchemaText(type))
                : null;
        views.put(
            type,
            view(type, pool.getKey(), JobTypeView.CONFIGURATION, schema, announcement, workers));
      }
    }
    if (announced != null) {
      for (AnnouncedType a : latest.values()) {
        if (announced.counts(a) && !views.containsKey(a.type())) {
          views.put(
              a.type(),
              view(a.type(), a.pool(), JobTypeView.ANNOUNCED, a.payloadSchema(), a, workers));
        }
      }
    }
    return List.copyOf(views.values());
  }

  private JobTypeView view(
      String type,
      String pool,
      String source,
      JsonNode schema,
      AnnouncedType announcement,
      List<WorkerView> workers) {
    JobTimeouts typeTimeouts = timeoutsOf(type);
    List<String> running =
        workers.stream()
            .filter(w -> !WorkerView.LOST.equals(w.state()) && pool.equals(w.pool()))
            .filter(w -> w.types() == null || w.types().contains(type))
            .map(WorkerView::id)
            .sorted()
            .toList();
    return new JobTypeView(
        type,
        pool,
        source,
        schema,
        maxAttemptsOf(type),
        typeTimeouts.equals(JobTimeouts.NONE) ? null : typeTimeouts,
        running,
        announcement == null ? null : announcement.announcedAt(),
        announcement == null ? null : announcement.workerId());
  }
}
