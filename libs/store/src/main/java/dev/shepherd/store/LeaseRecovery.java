package dev.shepherd.store;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.function.Supplier;
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
   * Takes back up to {@code limit} expired leases in each partition from {@code from} to the last,
   * all at once (one round trip, {@link ScriptRunner#runOnEvery}), judged as of now: {@code each}
   * gets what each partition's call took back, and a failed call is thrown after the others'
   * replies were given.
   *
   * @param retryBackoff drawn once per partition
   */
  public void reapExpiredLeases(
      int from, int limit, Supplier<Duration> retryBackoff, Consumer<List<ReapedLease>> each) {
    passOnEvery(
        Script.REAP,
        from,
        limit,
        retryBackoff,
        reply -> each.accept(Replies.reapedLeases(reply)),
        store.lateOutcomeGrace());
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

  /**
   * Ends, in each partition from {@code from} to the last, all at once (one round trip), up to
   * {@code limit} running attempts past their timeouts as of now, as {@link #timeOutAttempts(int,
   * int, Duration)} does in one: {@code each} gets each partition's, and a failed call is thrown
   * after the others' replies were given.
   *
   * @param retryBackoff drawn once per partition
   */
  public void timeOutAttempts(
      int from, int limit, Supplier<Duration> retryBackoff, Consumer<List<TimedOutAttempt>> each) {
    passOnEvery(
        Script.TIMEOUT,
        from,
        limit,
        retryBackoff,
        reply -> each.accept(Replies.timedOutAttempts(reply)));
  }

  /** {@link #pass} on the partitions from {@code from} on, at once, all with one now. */
  private void passOnEvery(
      Script script,
      int from,
      int limit,
      Supplier<Duration> retryBackoff,
      Consumer<JsonNode> each,
      String... more) {
    String now = store.now();
    store.runOnEvery(
        script,
        from,
        p -> passArguments(now, limit, retryBackoff.get(), more).toArray(String[]::new),
        (reply, p) -> each.accept(reply));
  }

  /** One batch of a recovery pass over one partition: now, limit, backoff, retention, more. */
  private JsonNode pass(
      Script script, int partition, int limit, Duration retryBackoff, String... more) {
    return store.run(script, partition, passArguments(store.now(), limit, retryBackoff, more));
  }

  private List<String> passArguments(String now, int limit, Duration retryBackoff, String... more) {
    List<String> args = new ArrayList<>();
    args.add(now);
    args.add(Integer.toString(limit));
    args.add(Long.toString(retryBackoff.toMillis()));
    args.add(store.retention());
    args.addAll(List.of(more));
    return args;
  }

  /** The leases {@code workerId} holds, oldest first. */
  public List<HeldLease> leasesOf(String workerId) {
    return heldLeases().getOrDefault(workerId, List.of());
  }

  /** How many leases each worker holds now, across partitions. */
  public Map<String, Integer> leasesByWorker() {
    Map<String, Integer> counts = new HashMap<>();
    heldLeases().forEach((worker, leases) -> counts.put(worker, leases.size()));
    return counts;
  }

  /**
   * Every lease held now, by worker, each worker's oldest first: one call per partition ({@code
   * lease_holders.lua}), whatever the number of leases, all sent at once.
   */
  public Map<String, List<HeldLease>> heldLeases() {
    Map<String, List<HeldLease>> held = new HashMap<>();
    store.runOnEvery(
        Script.LEASE_HOLDERS,
        0,
        p -> new String[0],
        (reply, p) -> {
          for (JsonNode lease : reply.path("leases")) {
            held.computeIfAbsent(lease.path("worker").asString(), w -> new ArrayList<>())
                .add(
                    new HeldLease(
                        lease.path("id").asString(),
                        Replies.millis(lease.path("startedAt").asString(null)),
                        lease.path("outcome").asBoolean()));
          }
        });
    Comparator<HeldLease> oldestFirst =
        Comparator.comparing(h -> h.since() == null ? Instant.MIN : h.since());
    held.values().forEach(leases -> leases.sort(oldestFirst));
    return held;
  }
}
