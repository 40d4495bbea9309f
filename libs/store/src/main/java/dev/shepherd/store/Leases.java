package dev.shepherd.store;

import dev.shepherd.model.JobTimeouts;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import tools.jackson.databind.JsonNode;

/**
 * A worker's side of its attempts: it claims one (lease, fencing token and RUNNING in one call),
 * renews the lease while the attempt runs, holds it while the published outcome waits to be
 * applied, and releases what it could not finish when it stops. Every call after the claim carries
 * the fencing token, so a worker that lost its lease changes nothing.
 */
public final class Leases {

  /** What a renewal found. */
  public enum LeaseRenewal {
    /** The attempt still holds the job: its lease runs one more TTL. */
    RENEWED,
    /** The job was cancelled while the attempt ran: stop it, with the cancel's grace. */
    CANCELLED,
    /** Another attempt owns the job, or it ended otherwise: stop at once. */
    LOST
  }

  /** One attempt of a job, named by the fencing token of its claim. */
  public record AttemptToken(String jobId, long fencingToken) {}

  /** An attempt whose outcome is published and waits to be applied. */
  public record WaitingOutcome(String jobId, long fencingToken) {}

  private final StoreContext store;

  Leases(StoreContext store) {
    this.store = store;
  }

  /** The partition a job id names, or -1 for a foreign id. */
  public int partitionOf(String jobId) {
    return store.keys().partitionOf(jobId);
  }

  /** A worker claims one attempt: lease, fencing token and RUNNING in one call. */
  public ClaimResult claim(String jobId, int attempt, String workerId, Duration leaseTtl) {
    JsonNode reply =
        store.run(
            Script.CLAIM,
            partitionOf(jobId),
            jobId,
            Integer.toString(attempt),
            workerId,
            Long.toString(leaseTtl.toMillis()),
            store.now());
    String outcome = reply.get("outcome").asString();
    if ("CLAIMED".equals(outcome)) {
      Map<String, Duration> phases = new HashMap<>();
      reply
          .path("phaseLimits")
          .properties()
          .forEach(e -> phases.put(e.getKey(), Duration.ofMillis(e.getValue().asLong())));
      return new ClaimResult.Claimed(
          Long.parseLong(reply.get("token").asString()),
          new JobTimeouts(
              millisOrNull(reply.path("startToCloseMs").asString(null)),
              millisOrNull(reply.path("stallMs").asString(null)),
              phases),
          reply.path("heartbeatDetails").asString(null),
          transaction(reply));
    }
    return new ClaimResult.Refused(
        ClaimResult.Reason.valueOf(outcome), reply.path("state").asString(null));
  }

  /** The transaction a claim's reply names (ADR 31), or null when it names none. */
  private static ClaimResult.Transaction transaction(JsonNode reply) {
    if (!reply.hasNonNull("txn")) {
      return null;
    }
    List<ClaimResult.Transaction.Member> members = new ArrayList<>();
    for (JsonNode member : reply.path("batch")) {
      members.add(
          new ClaimResult.Transaction.Member(
              member.get("id").asString(), member.get("payload").asString()));
    }
    return new ClaimResult.Transaction(Long.parseLong(reply.get("txn").asString()), members);
  }

  /** Extends the lease; false when the token is no longer the job's (the lease was lost). */
  public boolean renew(String jobId, long fencingToken, Duration leaseTtl) {
    return renewLease(jobId, fencingToken, leaseTtl) == LeaseRenewal.RENEWED;
  }

  /**
   * Records where the attempt holding {@code fencingToken} runs: the distributor that started its
   * task, the task's token and an info URL for a person (ADR 45), shown per attempt in the job
   * view.
   *
   * @param infoUrl null for none
   * @return false when the attempt no longer holds the job (finished, cancelled, replaced)
   */
  public boolean recordTask(
      String jobId, long fencingToken, String distributor, String task, String infoUrl) {
    return recordTask(jobId, fencingToken, distributor, task, infoUrl, Map.of());
  }

  /**
   * As {@link #recordTask(String, long, String, String, String)}, with the distributor settings the
   * attempt started with: its configuration snapshot, kept with the attempt (ADR 44).
   *
   * @param settings the snapshot's settings; empty for none
   */
  public boolean recordTask(
      String jobId,
      long fencingToken,
      String distributor,
      String task,
      String infoUrl,
      Map<String, String> settings) {
    JsonNode reply =
        store.run(
            Script.RECORD_TASK,
            partitionOf(jobId),
            jobId,
            Long.toString(fencingToken),
            distributor,
            task,
            infoUrl == null ? "" : infoUrl,
            settings == null || settings.isEmpty()
                ? ""
                : dev.shepherd.model.Json.mapper()
                    .writeValueAsString(new java.util.TreeMap<>(settings)));
    return "RECORDED".equals(reply.get("outcome").asString());
  }

  /** Extends the lease, and says why when it may not. */
  public LeaseRenewal renewLease(String jobId, long fencingToken, Duration leaseTtl) {
    JsonNode reply =
        store.run(
            Script.RENEW,
            partitionOf(jobId),
            jobId,
            Long.toString(fencingToken),
            Long.toString(leaseTtl.toMillis()),
            store.now());
    if ("RENEWED".equals(reply.get("outcome").asString())) {
      return LeaseRenewal.RENEWED;
    }
    return "CANCELLED".equals(reply.path("state").asString(null))
        ? LeaseRenewal.CANCELLED
        : LeaseRenewal.LOST;
  }

  /**
   * Extends, in one call, the leases of attempts of one partition whose outcome is published and
   * waits for the status-tracker, and marks them so they no longer count against the worker's
   * capacity.
   *
   * @return the job ids still waiting; the others were applied (or taken over)
   */
  public Set<String> holdForOutcomes(int partition, List<WaitingOutcome> waiting, Duration ttl) {
    if (waiting.isEmpty()) {
      return Set.of();
    }
    List<String> args = new ArrayList<>();
    args.add(Long.toString(ttl.toMillis()));
    args.add(store.now());
    for (WaitingOutcome w : waiting) {
      args.add(w.jobId());
      args.add(Long.toString(w.fencingToken()));
    }
    return new HashSet<>(
        Replies.strings(store.run(Script.HOLD_OUTCOMES, partition, args).get("held")));
  }

  /** {@link #holdForOutcomes} for one attempt: false when its outcome was already applied. */
  public boolean holdForOutcome(String jobId, long fencingToken, Duration ttl) {
    return !holdForOutcomes(
            partitionOf(jobId), List.of(new WaitingOutcome(jobId, fencingToken)), ttl)
        .isEmpty();
  }

  /**
   * Releases the leases of the given attempts at once, each only while its job still runs under
   * that token: a draining worker gives back what it could not finish, and keeps the leases of
   * attempts whose outcome it published. Each job goes to RETRY_WAIT (due now).
   */
  public List<ReapedLease> releaseAttempts(List<AttemptToken> attempts, String reason) {
    Map<Integer, List<String>> byPartition = new TreeMap<>();
    for (AttemptToken a : attempts) {
      int partition = partitionOf(a.jobId());
      if (partition >= 0) {
        byPartition
            .computeIfAbsent(
                partition,
                p ->
                    new ArrayList<>(
                        List.of(reason, store.now(), store.retention(), store.lateOutcomeGrace())))
            .addAll(List.of(a.jobId(), Long.toString(a.fencingToken())));
      }
    }
    List<ReapedLease> released = new ArrayList<>();
    byPartition.forEach(
        (partition, args) ->
            released.addAll(
                Replies.reapedLeases(store.run(Script.RELEASE_ATTEMPTS, partition, args))));
    return released;
  }

  private static Duration millisOrNull(String millis) {
    return millis == null ? null : Duration.ofMillis(Long.parseLong(millis));
  }
}
