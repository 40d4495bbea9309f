package dev.shepherd.model;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.time.Instant;

/**
 * The record of something Shepherd could not process: a job that failed permanently or ran out of
 * attempts, or a message that could not even be read. Nothing is dropped without one.
 *
 * @param id the record's own id
 * @param jobId the job, when the input named one that exists
 * @param type the job type, when known
 * @param reason why it is dead, in words an operator can act on
 * @param source where it came from: a queue name, or {@code job} for a job that died in Redis
 * @param attempts how many attempts ran
 * @param rawMessage the message body as received (text; invalid UTF-8 is replaced)
 * @param discardedBy who discarded the record, when it was discarded
 * @param discardedAt when it was discarded
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record DeadJob(
    String id,
    String jobId,
    String type,
    String reason,
    String source,
    int attempts,
    Instant at,
    String rawMessage,
    String discardedBy,
    Instant discardedAt) {

  public DeadJob(
      String id,
      String jobId,
      String type,
      String reason,
      String source,
      int attempts,
      Instant at,
      String rawMessage) {
    this(id, jobId, type, reason, source, attempts, at, rawMessage, null, null);
  }
}
