package dev.shepherd.model;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.time.Instant;

/** One line of a job's history: a state change, what caused it and, for failures, why. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record TransitionRecord(
    Instant at, JobState from, JobState to, JobEvent event, int attempt, String reason) {}
