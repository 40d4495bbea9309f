package dev.shepherd.worker;

import java.util.Map;

/**
 * Who holds which attempt: the identity every status event, log line and lease renewal of the
 * attempt carries.
 */
record Claim(String jobId, String type, int attempt, long fencingToken, String workerId) {

  /** The SLF4J MDC entries of the attempt, for every log line while it runs. */
  Map<String, String> mdc() {
    return Map.of(
        "jobId",
        jobId,
        "attempt",
        Integer.toString(attempt),
        "workerId",
        workerId,
        "fencingToken",
        Long.toString(fencingToken));
  }

  @Override
  public String toString() {
    return "job " + jobId + " (" + type + ") attempt " + attempt + " token " + fencingToken;
  }
}
