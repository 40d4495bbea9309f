package dev.shepherd.engine.status;

import dev.shepherd.model.MetricNames;
import dev.shepherd.store.DeadJobs;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Who may send status events (issue 17, ADR 40): the broker users of the workers. RabbitMQ refuses
 * a message whose {@code user_id} is not its connection's user, so a status message that names a
 * worker user comes from one; one without a {@code user_id}, or from another user, is not applied:
 * it becomes a dead-job record ({@code unauthenticated} or {@code forbidden}) and is counted. An
 * empty list of users leaves the check to the broker's permissions (who may write the status
 * exchange).
 */
public final class StatusSenders {

  private static final Logger log = LoggerFactory.getLogger(StatusSenders.class);

  private final Set<String> workerUsers;
  private final DeadJobs deadJobs;
  private final Counter refused;

  public StatusSenders(List<String> workerUsers, DeadJobs deadJobs, MeterRegistry meters) {
    this.workerUsers = Set.copyOf(workerUsers);
    this.deadJobs = deadJobs;
    this.refused =
        Counter.builder(MetricNames.UNREADABLE_MESSAGES)
            .tag("source", "status-sender")
            .description("status messages refused because no worker user sent them")
            .register(meters);
    if (this.workerUsers.isEmpty()) {
      log.warn(
          "status events are taken from any broker user that may write the status exchange;"
              + " name the workers' users in shepherd.status-tracker.worker-users");
    }
  }

  /** Why a message of {@code userId} (null: none) may not report, or null when it may. */
  public String refusal(String userId) {
    if (workerUsers.isEmpty()) {
      return null;
    }
    if (userId == null || userId.isBlank()) {
      return "unauthenticated: the status message names no user_id";
    }
    return workerUsers.contains(userId)
        ? null
        : "forbidden: broker user '" + userId + "' is no worker's";
  }

  /** Records a refused message as a dead-job record with its reason. */
  public void refuse(String reason, byte[] body, String source) {
    refused.increment();
    log.warn("status message refused: {}", reason);
    deadJobs.recordDead(null, null, reason, source, new String(body, StandardCharsets.UTF_8));
  }
}
