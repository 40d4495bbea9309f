package dev.shepherd.worker;

import dev.shepherd.model.JobMdc;
import java.util.Map;

/**
 * Who holds which attempt: the identity every status event, log line and lease renewal of the
 * attempt carries.
 */
record Claim(String jobId, String type, int attempt, long fencingToken, String workerId) {

  /** The SLF4J MDC entries of the attempt ({@link JobMdc}), for every log line while it runs. */
  Map<String, String> mdc() {
    return JobMdc.of(jobId, attempt, workerId, fencingToken);
  }

  @Override
  public String toString() {
    return "job " + jobId + " (" + type + ") attempt " + attempt + " token " + fencingToken;
  }
}
