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
 * @param lastHour the jobs that finished in each minute of the last hour, oldest first; null unless
 *     the caller sees every tenant
 * @param workersAlive workers that are active or draining; null unless the caller is an admin
 * @param workersLost workers that stopped beating; null unless the caller is an admin
 * @param keysDown ordering keys that are DOWN; null unless the caller is an admin
 * @param at when it was read
 */
public record Overview(
    Map<JobState, Long> counts,
    List<PoolBacklog> pools,
    List<Minute> lastHour,
    Integer workersAlive,
    Integer workersLost,
    Integer keysDown,
    Instant at) {

  /**
   * The jobs that finished in one minute, by how they ended.
   *
   * @param start the minute's start; it ends a minute later
   */
  public record Minute(Instant start, long succeeded, long dead, long cancelled) {

    public long finished() {
      return succeeded + dead + cancelled;
    }
  }

  /** Jobs finished in the last hour. */
  public long finishedLastHour() {
    return lastHour == null ? 0 : lastHour.stream().mapToLong(Minute::finished).sum();
  }

  /** The share of the last hour's finished jobs that ended DEAD, in percent; null for none. */
  public Double deadShareLastHour() {
    long finished = finishedLastHour();
    return finished == 0
        ? null
        : 100.0 * lastHour.stream().mapToLong(Minute::dead).sum() / finished;
  }

  /**
   * One pool's queue in Redis.
   *
   * @param oldestQueuedAt when its oldest queued job was queued; null when none is
   * @param oldestJobId the job that has waited longest; null when none waits
   */
  public record PoolBacklog(String pool, long queued, Instant oldestQueuedAt, String oldestJobId) {

    public PoolBacklog(String pool, long queued, Instant oldestQueuedAt) {
      this(pool, queued, oldestQueuedAt, null);
    }

    /** How long the oldest queued job has waited at {@code now}; null when none waits. */
    public Duration oldestWait(Instant now) {
      return oldestQueuedAt == null ? null : Duration.between(oldestQueuedAt, now);
    }
  }
}
