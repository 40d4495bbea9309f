package dev.shepherd.engine.intake;

import dev.shepherd.contracts.Contracts;
import dev.shepherd.messaging.Topology;
import dev.shepherd.store.AnnouncedType;
import dev.shepherd.store.JobTypeRegistry;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

/**
 * The job types workers announced and the scheduler accepts (ADR 35): an announcement counts while
 * it is younger than the retention (a worker re-announces its types on every heartbeat, so a type
 * stays accepted while its pool runs and for the retention after its last worker went). Each type
 * is read from Redis at most once per {@code refresh} per process, its payload schema compiled once
 * per announced version.
 */
public final class AnnouncedTypes {

  private final JobTypeRegistry registry;
  private final Contracts contracts;
  private final Clock clock;
  private final Duration retention;
  private final Duration refresh;
  private final ConcurrentHashMap<String, Read> reads = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<String, Compiled> schemas = new ConcurrentHashMap<>();

  private record Read(Optional<AnnouncedType> type, Instant at) {}

  /** A schema as compiled, or why it does not compile. */
  private record Compiled(
      tools.jackson.databind.JsonNode source,
      Contracts.PayloadSchema schema,
      IllegalArgumentException error) {}

  /**
   * @param contracts what compiles announced schemas; null where none are judged
   * @param retention how long after its last announcement a type is still accepted
   * @param refresh how stale a type read from Redis may be
   */
  public AnnouncedTypes(
      JobTypeRegistry registry,
      Contracts contracts,
      Clock clock,
      Duration retention,
      Duration refresh) {
    this.registry = registry;
    this.contracts = contracts;
    this.clock = clock;
    this.retention = retention;
    this.refresh = refresh;
  }

  /**
   * The pool of a job type for a service that only tags metrics with it (the status tracker): the
   * configured one, else the last announced one however old, else null; a failed Redis read is null
   * too, and is tried again on the next event after {@code refresh}.
   */
  public static Function<String, String> poolOfType(
      Topology topology, JobTypeRegistry registry, Clock clock) {
    var announced =
        new AnnouncedTypes(registry, null, clock, Duration.ofDays(36_500), Duration.ofSeconds(10));
    return type -> {
      String configured = topology.poolOf(type);
      if (configured != null) {
        return configured;
      }
      try {
        return announced.find(type).map(AnnouncedType::pool).orElse(null);
      } catch (RuntimeException e) {
        return null;
      }
    };
  }

  /** The type's announcement while it counts; empty when it was never announced or too long ago. */
  public Optional<AnnouncedType> find(String type) {
    Instant now = clock.instant();
    Read read = reads.get(type);
    if (read == null || !read.at().plus(refresh).isAfter(now)) {
      try {
        read = new Read(registry.find(type), now);
        reads.put(type, read);
      } catch (RuntimeException e) {
        if (read == null) {
          throw e; // nothing known to fall back on: Redis's error is the submission's
        }
      }
    }
    return read.type().filter(this::counts);
  }

  /** Every announcement that counts, by type. */
  public List<AnnouncedType> list() {
    return all().stream().filter(this::counts).toList();
  }

  /** Every announcement, however old, by type. */
  public List<AnnouncedType> all() {
    return registry.list();
  }

  /** Every pool a worker ever announced. */
  public Set<String> pools() {
    return registry.pools();
  }

  /**
   * The compiled payload schema the type's announcement carries; empty when it carries none.
   *
   * @throws IllegalArgumentException when the announced schema does not compile, saying why
   */
  public Optional<Contracts.PayloadSchema> schemaOf(AnnouncedType type) {
    if (type.payloadSchema() == null) {
      return Optional.empty();
    }
    Compiled compiled =
        schemas.compute(
            type.type(),
            (name, known) -> {
              if (known != null && known.source().equals(type.payloadSchema())) {
                return known;
              }
              try {
                return new Compiled(
                    type.payloadSchema(),
                    contracts.compileAnnounced(name, type.payloadSchema()),
                    null);
              } catch (IllegalArgumentException e) {
                return new Compiled(type.payloadSchema(), null, e);
              }
            });
    if (compiled.error() != null) {
      throw compiled.error();
    }
    return Optional.of(compiled.schema());
  }

  /** Whether the announcement is young enough for its type to be accepted. */
  public boolean counts(AnnouncedType type) {
    return type.announcedAt() != null
        && !type.announcedAt().plus(retention).isBefore(clock.instant());
  }
}
