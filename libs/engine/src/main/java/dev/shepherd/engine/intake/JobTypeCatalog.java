package dev.shepherd.engine.intake;

import dev.shepherd.messaging.Topology;
import java.util.Map;

/**
 * The job types this installation accepts: a type is known when a worker pool consumes it, and each
 * may set its own default number of attempts.
 */
public record JobTypeCatalog(
    Topology topology, Map<String, Integer> maxAttempts, int defaultMaxAttempts) {

  public JobTypeCatalog {
    maxAttempts = Map.copyOf(maxAttempts);
  }

  public boolean isKnown(String type) {
    return topology.poolOf(type) != null;
  }

  public String poolOf(String type) {
    return topology.poolOf(type);
  }

  public int maxAttemptsOf(String type) {
    return maxAttempts.getOrDefault(type, defaultMaxAttempts);
  }
}
