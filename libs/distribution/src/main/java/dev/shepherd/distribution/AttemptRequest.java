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
 *     and a report with an older one is refused. 0 when the attempt is not claimed yet: {@code
 *     worker-pool}'s run publishes the attempt before a worker claims it, and that claim issues the
 *     token
 * @param payload the job's payload, as submitted
 * @param config the distributor configuration the type had when this attempt started, stored with
 *     the attempt and used for its whole life
 * @param deadline when the attempt must be over (its start-to-close limit), or null for none
 * @param submittedAt when the job was accepted, or null when the caller does not know it
 * @param traceparent the W3C trace context the attempt continues, or null for none
 */
public record AttemptRequest(
    String jobId,
    String type,
    int attempt,
    long fencingToken,
    JsonNode payload,
    DistributorConfig config,
    Instant deadline,
    Instant submittedAt,
    String traceparent) {

  /** An attempt whose submission time and trace context the caller does not pass on. */
  public AttemptRequest(
      String jobId,
      String type,
      int attempt,
      long fencingToken,
      JsonNode payload,
      DistributorConfig config,
      Instant deadline) {
    this(jobId, type, attempt, fencingToken, payload, config, deadline, null, null);
  }

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
    if (fencingToken < 0) {
      throw new IllegalArgumentException(
          "a fencing token is positive, or 0 before the claim, was " + fencingToken);
    }
    if (config == null) {
      throw new IllegalArgumentException("an attempt request needs its distributor configuration");
    }
  }

  /**
   * The attempt itself, for a distributor whose task runs under the claim's token (it reports with
   * it): refuses an attempt not claimed yet.
   *
   * @throws IllegalArgumentException when the fencing token is 0
   */
  public AttemptRequest requireClaimed(String distributor) {
    if (fencingToken == 0) {
      throw new IllegalArgumentException(
          distributor
              + " runs claimed attempts only (a worker's handler runs them): attempt "
              + attempt
              + " of job "
              + jobId
              + " has no fencing token");
    }
    return this;
  }
}
