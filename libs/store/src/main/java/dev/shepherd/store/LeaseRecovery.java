package dev.shepherd.store;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.springframework.data.redis.core.RedisCallback;
import tools.jackson.databind.JsonNode;

/**
 * Takes back the attempts of workers that stopped answering, as the recovery passes see them:
 * expired leases, the leases of a lost worker, attempts over a worker's capacity, and attempts past
 * their timeouts. Each taken-back job goes to RETRY_WAIT, or DEAD when its attempts are used up.
 */
public final class LeaseRecovery {

  /**
   * A lease one worker holds, and since when.
   *
   * @param outcomePublished the worker published the attempt's outcome and waits for it to be
   *     applied ({@link Leases#holdForOutcomes})
   */
  public record HeldLease(String jobId, Instant since, boolean outcomePublished) {}

  private final StoreContext store;

  LeaseRecovery(StoreContext store) {
    this.store = store;
  }

  public int partitions() {
    return store.keys().partitions();
  }

  /** Takes back up to {@code limit} expired leases of one partition. */
  public List<ReapedLease> reapExpiredLeases(int partition, int limit, Duration retryBackoff) {
    return Replies.reapedLeases(
        pass(Script.REAP, partition, limit, retryBackoff, store.lateOutcomeGrace()));
  }

  /**
   * Releases every lease {@code workerId} holds, at once, without waiting for their TTLs: its pod
   * is gone or it was declared lost. Each job goes to RETRY_WAIT (due now); a last attempt waits
   * there the late-outcome grace ({@link StoreSettings#lateOutcomeGrace()}) for its outcome, then
   * goes DEAD.
   */
  public List<ReapedLease> releaseLeasesOf(String workerId, String reason) {
    List<ReapedLease> released = new ArrayList<>();
    for (int p = 0; p < partitions(); p++) {
      released.addAll(
          Replies.reapedLeases(
              store.run(
                  Script.RELEASE_WORKER,
                  p,
                  workerId,
                  reason,
                  store.now(),
                  store.retention(),
                  store.lateOutcomeGrace())));
    }
    return released;
  }

  /**
   * Declares the attempt {@code workerId} holds on {@code jobId} abandoned: its lease goes at once
   * and the job is re-dispatched now (or DEAD when attempts are used up). Nothing happens when that
   * worker no longer holds it.
   */
  public Optional<ReapedLease> abandon(String jobId, String workerId, String reason) {
    return Replies.reapedLeases(
            store.run(
                Script.ABANDON,
                store.keys().partitionOf(jobId),
                jobId,
                workerId,
                reason,
                store.now(),
                store.retention(),
                store.lateOutcomeGrace()))
        .stream()
        .findFirst();
  }

  /**
   * Ends up to {@code limit} running attempts of one partition that passed their startToClose or
   * stall timeout (ADR 18), each as a retryable failure named {@code timeout:<name>}: the job waits
   * {@code retryBackoff} for its next attempt, or goes DEAD after its last.
   */
  public List<TimedOutAttempt> timeOutAttempts(int partition, int limit, Duration retryBackoff) {
    return Replies.timedOutAttempts(pass(Script.TIMEOUT, partition, limit, retryBackoff));
  }

  /** One batch of a recovery pass over one partition: now, limit, backoff, retention, more. */
  private JsonNode pass(
      Script script, int partition, int limit, Duration retryBackoff, String... more) {
    List<String> args = new ArrayList<>();
    args.add(store.now());
    args.add(Integer.toString(limit));
    args.add(Long.toString(retryBackoff.toMillis()));
    args.add(store.retention());
    args.addAll(List.of(more));
    return store.run(script, partition, args);
  }

  /** The leases {@code workerId} holds, oldest first. */
  public List<HeldLease> leasesOf(String workerId) {
    List<HeldLease> held = new ArrayList<>();
    for (int p = 0; p < partitions(); p++) {
      fieldsOfLeaseHolders(p, "worker", "startedAt", "outcomeAt")
          .forEach(
              (id, job) -> {
                if (workerId.equals(job.get(0))) {
                  held.add(new HeldLease(id, Replies.millis(job.get(1)), job.get(2) != null));
                }
              });
    }
    held.sort(Comparator.comparing(h -> h.since() == null ? Instant.MIN : h.since()));
    return held;
  }

  /** How many leases each worker holds now, across partitions. */
  public Map<String, Integer> leasesByWorker() {
    Map<String, Integer> held = new HashMap<>();
    for (int p = 0; p < partitions(); p++) {
      fieldsOfLeaseHolders(p, "worker")
          .values()
          .forEach(
              job -> {
                if (job.get(0) != null) {
                  held.merge(job.get(0), 1, Integer::sum);
                }
              });
    }
    return held;
  }

  /**
   * The named fields of every job whose lease is held in one partition, read in one round trip (a
   * pipeline of one HMGET per job), by job id; a field the job lacks is null.
   */
  private Map<String, List<String>> fieldsOfLeaseHolders(int partition, String... fields) {
    List<String> ids = new ArrayList<>(leaseHolders(partition));
    if (ids.isEmpty()) {
      return Map.of();
    }
    byte[][] names = new byte[fields.length][];
    for (int i = 0; i < fields.length; i++) {
      names[i] = fields[i].getBytes(StandardCharsets.UTF_8);
    }
    List<Object> replies =
        store
            .redis()
            .executePipelined(
                (RedisCallback<Object>)
                    connection -> {
                      for (String id : ids) {
                        connection
                            .hashCommands()
                            .hMGet(
                                store.keys().job(partition, id).getBytes(StandardCharsets.UTF_8),
                                names);
                      }
                      return null;
                    });
    Map<String, List<String>> byId = new LinkedHashMap<>();
    for (int i = 0; i < ids.size(); i++) {
      List<String> values = new ArrayList<>();
      for (Object value : (List<?>) replies.get(i)) {
        values.add((String) value);
      }
      byId.put(ids.get(i), values);
    }
    return byId;
  }

  /** The ids of the jobs whose lease is held in one partition. */
  private Set<String> leaseHolders(int partition) {
    Set<String> ids =
        store.redis().opsForZSet().range(store.keys().of(partition, Keys.LEASES), 0, -1);
    return ids == null ? Set.of() : ids;
  }
}
