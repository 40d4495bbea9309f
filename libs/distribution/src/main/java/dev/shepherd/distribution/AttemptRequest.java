package dev.shepherd.distribution;

import java.time.Instant;
import tools.jackson.databind.JsonNode;

/**
 * One attempt of one job, as a distributor is asked to run it.
 *
 * @param jobId the job
 * @param type the job's type, whose configuration chose the distributor
 * @param attempt the attempt's number, from 1
 * @param fencingToken the token of this attempt's claim; every report for the attempt carries it
 *     and a report with an older one is refused
 * @param payload the job's payload, as submitted
 * @param config the distributor configuration the type had when this attempt started, stored with
 *     the attempt and used for its whole life
 * @param deadline when the attempt must be over (its start-to-close limit), or null for none
 */
public record AttemptRequest(
    String jobId,
    String type,
    int attempt,
    long fencingToken,
    JsonNode payload,
    DistributorConfig config,
    Instant deadline) {

  public AttemptRequest {
    if (jobId == null || jobId.isBlank()) {
      throw new IllegalArgumentException("an attempt request needs a job id");
    }
    if (type == null || type.isBlank()) {
      throw new IllegalArgumentException("an attempt request needs the job's type");
    }
    if (attempt < 1) {
      throw new IllegalArgumentException("attempts count from 1, was " + attempt);
    }
    if (fencingToken < 1) {
      throw new IllegalArgumentException("a fencing token is positive, was " + fencingToken);
    }
    if (config == null) {
      throw new IllegalArgumentException("an attempt request needs its distributor configuration");
    }
  }
}
