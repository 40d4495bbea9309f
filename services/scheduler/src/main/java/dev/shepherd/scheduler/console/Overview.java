package dev.shepherd.scheduler.console;

import dev.shepherd.model.JobState;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * What the overview shows. The installation-wide numbers are null for a caller who may not see
 * them: counts and backlogs cover every tenant, workers and ordering keys are an administrator's.
 *
 * @param counts jobs per state; null unless the caller sees every tenant
 * @param pools each pool's queued jobs and its oldest; null unless the caller sees every tenant
 * @param workersAlive workers that are active or draining; null unless the caller is an admin
 * @param workersLost workers that stopped beating; null unless the caller is an admin
 * @param keysDown ordering keys that are DOWN; null unless the caller is an admin
 * @param at when it was read
 */
public record Overview(
    Map<JobState, Long> counts,
    List<PoolBacklog> pools,
    Integer workersAlive,
    Integer workersLost,
    Integer keysDown,
    Instant at) {

  /**
   * One pool's queue in Redis.
   *
   * @param oldestQueuedAt when its oldest queued job was queued; null when none is
   */
  public record PoolBacklog(String pool, long queued, Instant oldestQueuedAt) {

    /** How long the oldest queued job has waited at {@code now}; null when none waits. */
    public Duration oldestWait(Instant now) {
      return oldestQueuedAt == null ? null : Duration.between(oldestQueuedAt, now);
    }
  }
}
