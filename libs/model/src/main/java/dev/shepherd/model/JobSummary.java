package dev.shepherd.model;

import java.time.Instant;

/** One row of {@code GET /api/v1/jobs}: enough to find the job, not its whole history. */
public record JobSummary(
    String id, String type, JobState state, int attempt, Instant submittedAt) {}
