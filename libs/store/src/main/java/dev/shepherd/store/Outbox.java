package dev.shepherd.store;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.ObjIntConsumer;
import tools.jackson.databind.JsonNode;

/**
 * The outbox of every partition, as the dispatcher and the stale-queued pass use it: due entries
 * are reserved, published, then marked dispatched (or given back, or ended when no pool takes
 * them); jobs left QUEUED too long are put back.
 */
public final class Outbox {

  /** A job whose released last attempt sent no outcome within its grace: now DEAD. */
  public record ExhaustedJob(String jobId, String type, String pool) {}

  /** An outbox entry that no worker pool takes, and why. */
  public record Unroutable(DueEntry entry, String reason) {}

  private final StoreContext store;

  Outbox(StoreContext store) {
    this.store = store;
  }

  public int partitions() {
    return store.keys().partitions();
  }

  /**
   * Every partition's channel on which its scripts publish a job id when they made the job due now
   * without a dispatcher being told: an ordering key's next job, a concurrency key's freed slot.
   */
  public List<String> wakeChannels() {
    List<String> channels = new ArrayList<>();
    for (int partition = 0; partition < partitions(); partition++) {
      channels.add(store.keys().wakeChannel(partition));
    }
    return channels;
  }

  /** The partition a job id names, or -1 for a foreign id. */
  public int partitionOf(String jobId) {
    return store.keys().partitionOf(jobId);
  }

  /** The clock every timestamp of the store comes from. */
  public Clock clock() {
    return store.clock();
  }

  /**
   * Reserves up to {@code limit} due outbox entries of one partition for publishing; they stay
   * hidden from other dispatchers for {@code visibility} and reappear if never marked dispatched.
   */
  public List<DueEntry> reserveDue(int partition, int limit, Duration visibility) {
    return reserveDue(partition, limit, visibility, exhausted -> {});
  }

  /**
   * As {@link #reserveDue(int, int, Duration)}, telling {@code exhausted} of each job found waiting
   * past the late-outcome grace ({@link StoreSettings#lateOutcomeGrace()}) for the outcome of its
   * released last attempt: such a job is not published but goes DEAD (ADR 14).
   */
  public List<DueEntry> reserveDue(
      int partition, int limit, Duration visibility, Consumer<ExhaustedJob> exhausted) {
    return dueEntries(
        store.run(
            Script.RESERVE_DUE,
            partition,
            store.now(),
            Integer.toString(limit),
            Long.toString(visibility.toMillis()),
            store.retention()),
        exhausted);
  }

  /**
   * As {@link #reserveDue(int, int, Duration, Consumer)} in every partition, the calls sent at once
   * (one round trip, ADR 55) with one now: {@code each} gets each partition's reserved entries, in
   * partition order (an empty list too), and a failed call is thrown after the others' entries were
   * given (as a failed {@link #reserveDue} call, it leaves what was reserved to reappear once its
   * reservation runs out).
   */
  public void reserveDueInEvery(
      int limit,
      Duration visibility,
      Consumer<ExhaustedJob> exhausted,
      ObjIntConsumer<List<DueEntry>> each) {
    String[] args = {
      store.now(), Integer.toString(limit), Long.toString(visibility.toMillis()), store.retention()
    };
    store.runOnEvery(
        Script.RESERVE_DUE,
        0,
        p -> args,
        (reply, p) -> each.accept(dueEntries(reply, exhausted), p));
  }

  private static List<DueEntry> dueEntries(JsonNode reply, Consumer<ExhaustedJob> exhausted) {
    for (JsonNode e : Replies.list(reply.get("exhausted"))) {
      exhausted.accept(
          new ExhaustedJob(
              e.get("id").asString(),
              e.path("type").asString(null),
              e.path("pool").asString(null)));
    }
    return Replies.dueEntries(reply);
  }

  /**
   * Gives back reserved entries whose publish failed: they are due again after {@code delay} rather
   * than when their reservation runs out. Returns how many were still in the outbox.
   */
  public int deferDue(int partition, List<DueEntry> unpublished, Duration delay) {
    if (unpublished.isEmpty()) {
      return 0;
    }
    List<String> args = new ArrayList<>();
    args.add(store.now());
    args.add(Long.toString(delay.toMillis()));
    unpublished.forEach(entry -> args.add(entry.jobId()));
    return store.run(Script.DEFER_DUE, partition, args).get("deferred").asInt();
  }

  /**
   * Ends the jobs of reserved outbox entries that no worker pool takes any more: each goes DEAD
   * with its reason and a dead-job record, instead of being published again forever. An entry no
   * longer in the outbox for the same attempt is left alone.
   *
   * @return the ids of the jobs that went DEAD
   */
  public List<String> endUnroutable(int partition, List<Unroutable> unroutable) {
    if (unroutable.isEmpty()) {
      return List.of();
    }
    List<String> args = new ArrayList<>();
    args.add(store.now());
    args.add(store.retention());
    for (Unroutable u : unroutable) {
      args.add(u.entry().jobId());
      args.add(Integer.toString(u.entry().attempt()));
      args.add(u.reason());
    }
    return Replies.strings(store.run(Script.UNROUTABLE, partition, args).get("ended"));
  }

  /** Removes confirmed entries from the outbox of one partition; returns how many were current. */
  public int markDispatched(int partition, List<DueEntry> confirmed) {
    return markDispatched(partition, confirmed, expiredAt -> {});
  }

  /**
   * As {@link #markDispatched(int, List)}, telling {@code leaseExpired} when the lease of each
   * re-dispatched attempt had expired (for the expiry-to-re-dispatch metric).
   */
  public int markDispatched(
      int partition, List<DueEntry> confirmed, Consumer<Instant> leaseExpired) {
    if (confirmed.isEmpty()) {
      return 0;
    }
    List<String> args = new ArrayList<>();
    args.add(store.now());
    for (DueEntry entry : confirmed) {
      args.add(entry.jobId());
      args.add(Integer.toString(entry.attempt()));
    }
    JsonNode reply = store.run(Script.MARK_DISPATCHED, partition, args);
    for (JsonNode expiredAt : Replies.list(reply.get("leaseExpiredAt"))) {
      leaseExpired.accept(Instant.ofEpochMilli((long) Double.parseDouble(expiredAt.asString())));
    }
    return reply.get("marked").asInt();
  }

  /**
   * Puts jobs of {@code pool} that have been QUEUED for longer than {@code timeout} back into the
   * outbox of one partition, to be published again; returns their ids.
   */
  public List<String> requeueStale(int partition, String pool, Duration timeout, int limit) {
    long now = store.clock().millis();
    JsonNode reply =
        store.run(
            Script.REQUEUE_STALE,
            partition,
            pool,
            Long.toString(now - timeout.toMillis()),
            Integer.toString(limit),
            Long.toString(now));
    return Replies.strings(reply.get("requeued"));
  }
}
