package dev.shepherd.model;

import java.time.Instant;
import tools.jackson.databind.JsonNode;

/**
 * The message the scheduler publishes to the work exchange for one attempt of one job. A worker
 * must claim the attempt in Redis before it may run it; the message alone grants nothing.
 */
public record WorkMessage(
    String jobId, String type, int attempt, JsonNode payload, Instant submittedAt) {}
