package dev.shepherd.model;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.time.Instant;

/** One phase of one attempt: when it started, when it ended and how long it took. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record PhaseView(
    int attempt, String name, Instant startedAt, Instant endedAt, Long durationMillis) {}
