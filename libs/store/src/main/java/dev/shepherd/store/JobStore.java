package dev.shepherd.store;

import dev.shepherd.model.DeadJob;
import dev.shepherd.model.JobEvent;
import dev.shepherd.model.JobIds;
import dev.shepherd.model.JobState;
import dev.shepherd.model.JobSummary;
import dev.shepherd.model.JobTimeouts;
import dev.shepherd.model.JobView;
import dev.shepherd.model.Json;
import dev.shepherd.model.PhaseView;
import dev.shepherd.model.StatusEvent;
import dev.shepherd.model.TransitionRecord;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ThreadLocalRandom;
import org.springframework.data.redis.core.StringRedisTemplate;
import org.springframework.data.redis.core.script.RedisScript;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * Every read and every state change of a job. Each change is one Lua script, so it is atomic; every
 * change a worker causes carries its fencing token, so a worker that lost its lease changes
 * nothing.
 */
public final class JobStore {

  private final StringRedisTemplate redis;
  private final StoreSettings settings;
  private final Clock clock;
  private final Scripts scripts;

  public JobStore(StringRedisTemplate redis, StoreSettings settings, Clock clock) {
    this.redis = redis;
    this.settings = settings;
    this.clock = clock;
    this.scripts = new Scripts(settings);
  }

  public StoreSettings settings() {
    return settings;
  }

  /** The clock every timestamp of the store comes from. */
  public Clock clock() {
    return clock;
  }

  public int partitions() {
    return settings.partitions();
  }

  /** Stores a new job with its outbox entry, or returns the job its idempotency key names. */
  public SubmitOutcome submit(NewJob job) {
    int partition =
        job.idempotencyKey() == null
            ? ThreadLocalRandom.current().nextInt(settings.partitions())
            : JobIds.partitionForKey(job.idempotencyKey(), settings.partitions());
    String id = JobIds.newId(partition);
    long now = clock.millis();
    long notBefore = job.notBefore() == null ? now : job.notBefore().toEpochMilli();
    JsonNode reply =
        call(
            scripts.submit,
            partition,
            id,
            job.type(),
            job.pool(),
            job.payloadJson(),
            job.idempotencyKey() == null ? "" : job.idempotencyKey(),
            Long.toString(notBefore),
            Integer.toString(job.maxAttempts()),
            Long.toString(now),
            job.traceparent() == null ? "" : job.traceparent(),
            millisOrEmpty(job.timeouts().startToClose()),
            millisOrEmpty(job.timeouts().stall()),
            phaseLimits(job.timeouts()),
            millisOrEmpty(job.timeouts().scheduleToStart()),
            job.timeouts().failAtScheduleToStart() ? "1" : "");
    String jobId = reply.get("id").asString();
    JobState state = JobState.valueOf(reply.get("state").asString());
    return "DUPLICATE".equals(reply.get("outcome").asString())
        ? new SubmitOutcome.Duplicate(jobId, state)
        : new SubmitOutcome.Accepted(jobId, state);
  }

  /**
   * Reserves up to {@code limit} due outbox entries of one partition for publishing; they stay
   * hidden from other dispatchers for {@code visibility} and reappear if never marked dispatched.
   */
  public List<DueEntry> reserveDue(int partition, int limit, Duration visibility) {
    return reserveDue(partition, limit, visibility, exhausted -> {});
  }

  /** A job whose released last attempt sent no outcome within its grace: now DEAD. */
  public record ExhaustedJob(String jobId, String type, String pool) {}

  /**
   * As {@link #reserveDue(int, int, Duration)}, telling {@code exhausted} of each job found waiting
   * past the late-outcome grace ({@link StoreSettings#lateOutcomeGrace()}) for the outcome of its
   * released last attempt: such a job is not published but goes DEAD (ADR 14).
   */
  public List<DueEntry> reserveDue(
      int partition,
      int limit,
      Duration visibility,
      java.util.function.Consumer<ExhaustedJob> exhausted) {
    JsonNode reply =
        call(
            scripts.reserveDue,
            partition,
            Long.toString(clock.millis()),
            Integer.toString(limit),
            Long.toString(visibility.toMillis()),
            Long.toString(settings.retention().toMillis()));
    for (JsonNode e : list(reply.get("exhausted"))) {
      exhausted.accept(
          new ExhaustedJob(
              e.get("id").asString(),
              e.path("type").asString(null),
              e.path("pool").asString(null)));
    }
    List<DueEntry> entries = new ArrayList<>();
    for (JsonNode e : list(reply.get("entries"))) {
      entries.add(
          new DueEntry(
              e.get("id").asString(),
              e.get("type").asString(),
              e.get("pool").asString(),
              e.get("attempt").asInt(),
              e.get("payload").asString(),
              Instant.ofEpochMilli(Long.parseLong(e.get("submittedAt").asString())),
              e.path("traceparent").asString(null)));
    }
    return entries;
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
    args.add(Long.toString(clock.millis()));
    args.add(Long.toString(delay.toMillis()));
    unpublished.forEach(entry -> args.add(entry.jobId()));
    return call(scripts.deferDue, partition, args.toArray(String[]::new)).get("deferred").asInt();
  }

  /** An outbox entry that no worker pool takes, and why. */
  public record Unroutable(DueEntry entry, String reason) {}

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
    args.add(Long.toString(clock.millis()));
    args.add(Long.toString(settings.retention().toMillis()));
    for (Unroutable u : unroutable) {
      args.add(u.entry().jobId());
      args.add(Integer.toString(u.entry().attempt()));
      args.add(u.reason());
    }
    List<String> ended = new ArrayList<>();
    for (JsonNode id :
        list(call(scripts.unroutable, partition, args.toArray(String[]::new)).get("ended"))) {
      ended.add(id.asString());
    }
    return ended;
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
      int partition, List<DueEntry> confirmed, java.util.function.Consumer<Instant> leaseExpired) {
    if (confirmed.isEmpty()) {
      return 0;
    }
    List<String> args = new ArrayList<>();
    args.add(Long.toString(clock.millis()));
    for (DueEntry entry : confirmed) {
      args.add(entry.jobId());
      args.add(Integer.toString(entry.attempt()));
    }
    JsonNode reply = call(scripts.markDispatched, partition, args.toArray(String[]::new));
    for (JsonNode expiredAt : list(reply.get("leaseExpiredAt"))) {
      leaseExpired.accept(Instant.ofEpochMilli((long) Double.parseDouble(expiredAt.asString())));
    }
    return reply.get("marked").asInt();
  }

  /** A worker claims one attempt: lease, fencing token and RUNNING in one call. */
  public ClaimResult claim(String jobId, int attempt, String workerId, Duration leaseTtl) {
    JsonNode reply =
        call(
            scripts.claim,
            partitionOf(jobId),
            jobId,
            Integer.toString(attempt),
            workerId,
            Long.toString(leaseTtl.toMillis()),
            Long.toString(clock.millis()));
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
          reply.path("heartbeatDetails").asString(null));
    }
    return new ClaimResult.Refused(
        ClaimResult.Reason.valueOf(outcome), reply.path("state").asString(null));
  }

  /** Extends the lease; false when the token is no longer the job's (the lease was lost). */
  public boolean renew(String jobId, long fencingToken, Duration leaseTtl) {
    return renewLease(jobId, fencingToken, leaseTtl) == LeaseRenewal.RENEWED;
  }

  /** What a renewal found. */
  public enum LeaseRenewal {
    /** The attempt still holds the job: its lease runs one more TTL. */
    RENEWED,
    /** The job was cancelled while the attempt ran: stop it, with the cancel's grace. */
    CANCELLED,
    /** Another attempt owns the job, or it ended otherwise: stop at once. */
    LOST
  }

  /** Extends the lease, and says why when it may not. */
  public LeaseRenewal renewLease(String jobId, long fencingToken, Duration leaseTtl) {
    JsonNode reply =
        call(
            scripts.renew,
            partitionOf(jobId),
            jobId,
            Long.toString(fencingToken),
            Long.toString(leaseTtl.toMillis()),
            Long.toString(clock.millis()));
    if ("RENEWED".equals(reply.get("outcome").asString())) {
      return LeaseRenewal.RENEWED;
    }
    return "CANCELLED".equals(reply.path("state").asString(null))
        ? LeaseRenewal.CANCELLED
        : LeaseRenewal.LOST;
  }

  /**
   * Cancels the job at once, whatever it is doing, unless it already ended (see cancel.lua): a
   * waiting job never runs, a running attempt's renewals and reports are refused from here on.
   *
   * @param by who cancels, kept on the job
   * @param reason why, kept on the job's history (may be null)
   */
  public CancelResult cancel(String jobId, String by, String reason) {
    JsonNode reply =
        call(
            scripts.cancel,
            partitionOf(jobId),
            jobId,
            Long.toString(clock.millis()),
            by,
            reason == null ? "" : reason,
            Long.toString(settings.retention().toMillis()));
    var outcome = CancelResult.Outcome.valueOf(reply.get("outcome").asString());
    String state = reply.path("state").asString(null);
    return new CancelResult(
        outcome,
        state == null ? null : JobState.valueOf(state),
        reply.path("worker").asString(null),
        reply.path("token").isMissingNode() ? 0 : Long.parseLong(reply.get("token").asString()),
        reply.path("type").asString(null));
  }

  /** One attempt of a job, named by the fencing token of its claim. */
  public record AttemptToken(String jobId, long fencingToken) {}

  /** An attempt whose outcome is published and waits to be applied. */
  public record WaitingOutcome(String jobId, long fencingToken) {}

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
    args.add(Long.toString(clock.millis()));
    for (WaitingOutcome w : waiting) {
      args.add(w.jobId());
      args.add(Long.toString(w.fencingToken()));
    }
    Set<String> held = new HashSet<>();
    for (JsonNode id :
        list(call(scripts.holdOutcomes, partition, args.toArray(String[]::new)).get("held"))) {
      held.add(id.asString());
    }
    return held;
  }

  /** {@link #holdForOutcomes} for one attempt: false when its outcome was already applied. */
  public boolean holdForOutcome(String jobId, long fencingToken, Duration ttl) {
    return !holdForOutcomes(
            partitionOf(jobId), List.of(new WaitingOutcome(jobId, fencingToken)), ttl)
        .isEmpty();
  }

  /**
   * Applies a worker's status event, fenced by its token and deduplicated by its sequence number.
   *
   * @param retryBackoff how long a retryable failure waits before its next attempt is dispatched
   */
  public ReportResult report(StatusEvent event, Duration retryBackoff) {
    String phase = "";
    String percent = "";
    String message = "";
    String error = "";
    boolean retryable = false;
    switch (event) {
      case StatusEvent.PhaseStarted e -> phase = e.phase();
      case StatusEvent.PhaseEnded e -> phase = e.phase();
      case StatusEvent.Progress e -> {
        percent = Integer.toString(e.percent());
        message = e.message() == null ? "" : e.message();
      }
      case StatusEvent.Heartbeat e ->
          message = e.details() == null || e.details().isNull() ? "" : e.details().toString();
      case StatusEvent.Succeeded e -> {}
      case StatusEvent.Failed e -> {
        error = e.error() == null ? "" : e.error();
        retryable = e.retryable();
      }
    }
    int partition = partitionOf(event.jobId());
    if (partition < 0) {
      return new ReportResult(ReportResult.Outcome.MISSING, null);
    }
    JsonNode reply =
        call(
            scripts.report,
            partition,
            event.jobId(),
            Long.toString(event.fencingToken()),
            Long.toString(event.sequence()),
            event.eventName(),
            Long.toString(event.at().toEpochMilli()),
            phase,
            percent,
            message,
            error,
            Boolean.toString(retryable),
            Long.toString(clock.millis()),
            Long.toString(retryBackoff.toMillis()),
            Long.toString(settings.retention().toMillis()),
            event.workerId() == null ? "" : event.workerId());
    return new ReportResult(
        ReportResult.Outcome.valueOf(reply.get("outcome").asString()),
        reply.path("state").asString(null));
  }

  /**
   * Ends up to {@code limit} running attempts of one partition that passed their startToClose or
   * stall timeout (ADR 18), each as a retryable failure named {@code timeout:<name>}: the job waits
   * {@code retryBackoff} for its next attempt, or goes DEAD after its last.
   */
  public List<TimedOutAttempt> timeOutAttempts(int partition, int limit, Duration retryBackoff) {
    JsonNode reply =
        call(
            scripts.timeout,
            partition,
            Long.toString(clock.millis()),
            Integer.toString(limit),
            Long.toString(retryBackoff.toMillis()),
            Long.toString(settings.retention().toMillis()));
    List<TimedOutAttempt> out = new ArrayList<>();
    for (JsonNode t : list(reply.get("timedOut"))) {
      out.add(
          new TimedOutAttempt(
              t.get("id").asString(),
              t.path("worker").asString(null),
              t.get("attempt").asInt(),
              JobState.valueOf(t.get("state").asString()),
              t.path("type").asString(null),
              t.path("pool").asString(null),
              TimedOutAttempt.Timeout.ofLabel(t.get("timeout").asString()),
              t.hasNonNull("token") ? Long.parseLong(t.get("token").asString()) : 0,
              t.get("timeout").asString().startsWith("phase:")
                  ? t.get("timeout").asString().substring("phase:".length())
                  : null));
    }
    return out;
  }

  /** The phase limits as the scripts read them, {@code {"render": 120000}}; '' for none. */
  private static String phaseLimits(JobTimeouts timeouts) {
    if (timeouts.phases().isEmpty()) {
      return "";
    }
    var limits = Json.mapper().createObjectNode();
    timeouts.phases().forEach((phase, limit) -> limits.put(phase, limit.toMillis()));
    return limits.toString();
  }

  private static Duration millisOrNull(String millis) {
    return millis == null ? null : Duration.ofMillis(Long.parseLong(millis));
  }

  private static String millisOrEmpty(Duration duration) {
    return duration == null ? "" : Long.toString(duration.toMillis());
  }

  /** Takes back up to {@code limit} expired leases of one partition. */
  public List<ReapedLease> reapExpiredLeases(int partition, int limit, Duration retryBackoff) {
    return reaped(
        call(
            scripts.reap,
            partition,
            Long.toString(clock.millis()),
            Integer.toString(limit),
            Long.toString(retryBackoff.toMillis()),
            Long.toString(settings.retention().toMillis()),
            Long.toString(settings.lateOutcomeGrace().toMillis())));
  }

  /**
   * Releases every lease {@code workerId} holds, at once, without waiting for their TTLs: its pod
   * is gone or it was declared lost. Each job goes to RETRY_WAIT (due now); a last attempt waits
   * there the late-outcome grace ({@link StoreSettings#lateOutcomeGrace()}) for its outcome, then
   * goes DEAD.
   */
  public List<ReapedLease> releaseLeasesOf(String workerId, String reason) {
    List<ReapedLease> released = new ArrayList<>();
    for (int p = 0; p < settings.partitions(); p++) {
      released.addAll(
          reaped(
              call(
                  scripts.releaseWorker,
                  p,
                  workerId,
                  reason,
                  Long.toString(clock.millis()),
                  Long.toString(settings.retention().toMillis()),
                  Long.toString(settings.lateOutcomeGrace().toMillis()))));
    }
    return released;
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
                        List.of(
                            reason,
                            Long.toString(clock.millis()),
                            Long.toString(settings.retention().toMillis()),
                            Long.toString(settings.lateOutcomeGrace().toMillis()))))
            .addAll(List.of(a.jobId(), Long.toString(a.fencingToken())));
      }
    }
    List<ReapedLease> released = new ArrayList<>();
    byPartition.forEach(
        (partition, args) ->
            released.addAll(
                reaped(call(scripts.releaseAttempts, partition, args.toArray(String[]::new)))));
    return released;
  }

  /**
   * A lease one worker holds, and since when.
   *
   * @param outcomePublished the worker published the attempt's outcome and waits for it to be
   *     applied ({@link #holdForOutcomes})
   */
  public record HeldLease(String jobId, Instant since, boolean outcomePublished) {}

  /** The leases {@code workerId} holds, oldest first. */
  public List<HeldLease> leasesOf(String workerId) {
    List<HeldLease> held = new ArrayList<>();
    for (int p = 0; p < settings.partitions(); p++) {
      String base = settings.base(p);
      var ids = redis.opsForZSet().range(base + "leases", 0, -1);
      if (ids == null) {
        continue;
      }
      for (String id : ids) {
        List<Object> job =
            redis
                .opsForHash()
                .multiGet(base + "job:" + id, List.of("worker", "startedAt", "outcomeAt"));
        if (workerId.equals(job.get(0))) {
          held.add(new HeldLease(id, millis((String) job.get(1)), job.get(2) != null));
        }
      }
    }
    held.sort(Comparator.comparing(h -> h.since() == null ? Instant.MIN : h.since()));
    return held;
  }

  /**
   * Declares the attempt {@code workerId} holds on {@code jobId} abandoned: its lease goes at once
   * and the job is re-dispatched now (or DEAD when attempts are used up). Nothing happens when that
   * worker no longer holds it.
   */
  public Optional<ReapedLease> abandon(String jobId, String workerId, String reason) {
    return reaped(
            call(
                scripts.abandon,
                partitionOf(jobId),
                jobId,
                workerId,
                reason,
                Long.toString(clock.millis()),
                Long.toString(settings.retention().toMillis()),
                Long.toString(settings.lateOutcomeGrace().toMillis())))
        .stream()
        .findFirst();
  }

  /** How many leases each worker holds now, across partitions. */
  public Map<String, Integer> leasesByWorker() {
    Map<String, Integer> held = new HashMap<>();
    for (int p = 0; p < settings.partitions(); p++) {
      String base = settings.base(p);
      var ids = redis.opsForZSet().range(base + "leases", 0, -1);
      if (ids == null) {
        continue;
      }
      for (String id : ids) {
        Object worker = redis.opsForHash().get(base + "job:" + id, "worker");
        if (worker != null) {
          held.merge((String) worker, 1, Integer::sum);
        }
      }
    }
    return held;
  }

  private static List<ReapedLease> reaped(JsonNode reply) {
    List<ReapedLease> reaped = new ArrayList<>();
    for (JsonNode r : list(reply.get("reaped"))) {
      reaped.add(
          new ReapedLease(
              r.get("id").asString(),
              r.path("worker").asString(null),
              r.get("attempt").asInt(),
              r.get("state").asString(),
              r.path("type").asString(null),
              r.path("pool").asString(null)));
    }
    return reaped;
  }

  /** Records input that could not become a job; returns the record. */
  public DeadJob recordDead(String jobId, String type, String reason, String source, String raw) {
    int partition = ThreadLocalRandom.current().nextInt(settings.partitions());
    var record =
        new DeadJob(JobIds.newId(partition), jobId, type, reason, source, 0, clock.instant(), raw);
    call(
        scripts.recordDead,
        partition,
        record.id(),
        Json.mapper().writeValueAsString(record),
        Long.toString(clock.millis()));
    return record;
  }

  /**
   * Puts jobs of {@code pool} that have been QUEUED for longer than {@code timeout} back into the
   * outbox of one partition, to be published again; returns their ids.
   */
  public List<String> requeueStale(int partition, String pool, Duration timeout, int limit) {
    long now = clock.millis();
    List<String> ids = new ArrayList<>();
    for (JsonNode id :
        list(
            call(
                    scripts.requeueStale,
                    partition,
                    pool,
                    Long.toString(now - timeout.toMillis()),
                    Integer.toString(limit),
                    Long.toString(now))
                .get("requeued"))) {
      ids.add(id.asString());
    }
    return ids;
  }

  /**
   * One index of a partition and how a trim pass finds its members that point at nothing.
   *
   * @param name the key after the partition's base ({@code state:SUCCEEDED}, {@code jobs}, ...)
   * @param byScore the score is when the retention of what the member points at began, so every
   *     member scored more than {@code retention} ago goes; otherwise such members go only when
   *     their job is gone
   * @param records the members are dead-job record ids, and their records go with them
   */
  public record Index(String name, boolean byScore, Duration retention, boolean records) {}

  /** What one trim batch did: members removed, where the next batch starts, whether to go on. */
  public record TrimBatch(int removed, int next, boolean more) {}

  /**
   * The indexes of every partition that a trim pass walks, each with the retention of what it
   * points at. Finished jobs leave their terminal state's index, DEAD jobs and dead-job records the
   * dead, discarded and DEAD indexes, by score; the job index and the indexes of unfinished jobs
   * (which should never name a missing job) are checked member by member. Leases, the outbox and
   * the timeout deadlines are not here: the lease reaper, the dispatcher and the timeout pass drop
   * their members of finished jobs (and a job leaving RUNNING leaves the timeout set at once).
   *
   * @param pools the worker pools, whose {@code queued:<pool>} and {@code requeued:<pool>} indexes
   *     are walked too
   */
  public List<Index> trimmedIndexes(java.util.Collection<String> pools) {
    Duration retention = settings.retention();
    Duration dead = settings.deadRetention();
    List<Index> indexes = new ArrayList<>();
    if (!retention.isZero()) {
      for (JobState state : List.of(JobState.SUCCEEDED, JobState.CANCELLED)) {
        indexes.add(new Index("state:" + state.name(), true, retention, false));
      }
    }
    if (!dead.isZero()) {
      indexes.add(new Index("state:" + JobState.DEAD.name(), true, dead, false));
      indexes.add(new Index("dead", true, dead, true));
      indexes.add(new Index("discarded", true, dead, true));
    }
    // a job is gone at the earliest this long after its last change
    Duration shortest =
        retention.isZero()
            ? dead
            : dead.isZero() ? retention : Collections.min(List.of(retention, dead));
    if (!shortest.isZero()) {
      indexes.add(new Index("jobs", false, shortest, false));
      for (JobState state : JobState.values()) {
        if (!state.isTerminal()) {
          indexes.add(new Index("state:" + state.name(), false, shortest, false));
        }
      }
      for (String pool : pools) {
        indexes.add(new Index("queued:" + pool, false, shortest, false));
        indexes.add(new Index("requeued:" + pool, false, shortest, false));
      }
    }
    return indexes;
  }

  /**
   * Trims one batch of one index of one partition: up to {@code limit} members, starting at {@code
   * offset} among the members older than the index's retention.
   */
  public TrimBatch trimIndex(int partition, Index index, int offset, int limit) {
    JsonNode reply =
        call(
            scripts.trimIndexes,
            partition,
            index.name(),
            index.byScore() ? "score" : "exists",
            Long.toString(clock.millis() - index.retention().toMillis()),
            Integer.toString(offset),
            Integer.toString(limit),
            Boolean.toString(index.records()));
    return new TrimBatch(
        reply.get("removed").asInt(), reply.get("next").asInt(), reply.get("more").asBoolean());
  }

  /** What a redrive did. */
  public enum RedriveOutcome {
    /** The job is QUEUED again for one more attempt. */
    REDRIVEN,
    /** The record names no job (the input never became one), or the job is gone. */
    NO_JOB,
    /** The job is not DEAD (already redriven, or it never died). */
    NOT_DEAD
  }

  /** Puts the DEAD job a dead-job record names back for one more attempt. */
  public RedriveOutcome redrive(String recordId, String by) {
    DeadJob record = findDead(recordId).orElse(null);
    String jobId = record == null ? recordId : record.jobId();
    if (jobId == null || partitionOf(jobId) < 0) {
      return RedriveOutcome.NO_JOB;
    }
    String outcome =
        call(scripts.redrive, partitionOf(jobId), jobId, Long.toString(clock.millis()), by)
            .get("outcome")
            .asString();
    return switch (outcome) {
      case "REDRIVEN" -> RedriveOutcome.REDRIVEN;
      case "NOT_DEAD" -> RedriveOutcome.NOT_DEAD;
      default -> RedriveOutcome.NO_JOB;
    };
  }

  /** Moves a dead-job record to the discarded ones, keeping who and when; false if none. */
  public boolean discardDead(String recordId, String by) {
    int partition = partitionOf(recordId);
    return partition >= 0
        && "DISCARDED"
            .equals(
                call(scripts.discard, partition, recordId, by, Long.toString(clock.millis()))
                    .get("outcome")
                    .asString());
  }

  public Optional<DeadJob> findDead(String recordId) {
    int partition = partitionOf(recordId);
    if (partition < 0) {
      return Optional.empty();
    }
    String json = redis.opsForValue().get(settings.base(partition) + "deadrec:" + recordId);
    return json == null ? Optional.empty() : Optional.of(readDead(json));
  }

  /** The newest discarded dead-job records, newest first. */
  public List<DeadJob> listDiscarded(int limit) {
    List<DeadJob> records = new ArrayList<>();
    for (Scored s : newestAcrossPartitions("discarded", limit)) {
      String json = redis.opsForValue().get(s.base() + "deadrec:" + s.id());
      if (json != null) {
        records.add(readDead(json));
      }
    }
    return records;
  }

  /** The newest dead-job records across all partitions, newest first. */
  public List<DeadJob> listDead(int limit) {
    List<Scored> newest = newestAcrossPartitions("dead", limit);
    List<DeadJob> records = new ArrayList<>();
    for (Scored s : newest) {
      String json = redis.opsForValue().get(s.base() + "deadrec:" + s.id());
      if (json != null) {
        records.add(readDead(json));
      }
    }
    return records;
  }

  /** A job's whole record: state, attempts, phases and history. */
  public Optional<JobView> find(String jobId) {
    int partition = partitionOf(jobId);
    if (partition < 0) {
      return Optional.empty();
    }
    JsonNode reply = call(scripts.view, partition, jobId);
    if (!reply.get("found").asBoolean()) {
      return Optional.empty();
    }
    Map<String, String> job = pairs(reply.get("job"));
    Map<String, String> phases = pairs(reply.get("phases"));
    List<TransitionRecord> history = new ArrayList<>();
    for (JsonNode line : list(reply.get("history"))) {
      JsonNode h = Json.mapper().readTree(line.asString());
      history.add(
          new TransitionRecord(
              millis(h.path("at").asString(null)),
              h.hasNonNull("from") ? JobState.valueOf(h.get("from").asString()) : null,
              JobState.valueOf(h.get("to").asString()),
              "SUBMIT".equals(h.get("event").asString())
                  ? null
                  : JobEvent.valueOf(h.get("event").asString()),
              h.path("attempt").asInt(),
              h.path("reason").asString(null),
              h.hasNonNull("fencingToken") ? Long.valueOf(h.get("fencingToken").asString()) : null,
              h.path("workerId").asString(null)));
    }
    return Optional.of(
        new JobView(
            jobId,
            job.get("type"),
            job.get("pool"),
            JobState.valueOf(job.get("state")),
            Integer.parseInt(job.get("attempt")),
            Integer.parseInt(job.get("maxAttempts")),
            Json.mapper().readTree(job.get("payload")),
            job.get("idempotencyKey"),
            millis(job.get("submittedAt")),
            millis(job.get("notBefore")),
            millis(job.get("finishedAt")),
            job.get("worker"),
            job.containsKey("progress") ? Integer.valueOf(job.get("progress")) : null,
            job.get("progressMessage"),
            job.get("lastError"),
            job.get("cancelledBy"),
            millis(job.get("cancelledAt")),
            dev.shepherd.model.TraceParent.parse(job.get("traceparent"))
                .map(dev.shepherd.model.TraceParent::traceId)
                .orElse(null),
            phaseViews(phases),
            history));
  }

  /** The id of the job an idempotency key made, if any. */
  public Optional<String> findIdByIdempotencyKey(String idempotencyKey) {
    int partition = JobIds.partitionForKey(idempotencyKey, settings.partitions());
    return Optional.ofNullable(
        redis.opsForValue().get(settings.base(partition) + "idem:" + idempotencyKey));
  }

  /** The newest jobs, optionally only those in one state and of one type. */
  public List<JobSummary> list(JobState state, String type, int limit) {
    String index = state == null ? "jobs" : "state:" + state.name();
    List<JobSummary> out = new ArrayList<>();
    // Over-fetch when filtering by type: the index is per state, not per type.
    int fetch = type == null ? limit : Math.min(limit * 10, 10_000);
    for (Scored s : newestAcrossPartitions(index, fetch)) {
      List<Object> fields =
          redis
              .opsForHash()
              .multiGet(
                  s.base() + "job:" + s.id(), List.of("type", "state", "attempt", "submittedAt"));
      if (fields.get(0) == null) {
        redis.opsForZSet().remove(s.base() + index, s.id()); // expired by retention
        continue;
      }
      if (type != null && !type.equals(fields.get(0))) {
        continue;
      }
      out.add(
          new JobSummary(
              s.id(),
              (String) fields.get(0),
              JobState.valueOf((String) fields.get(1)),
              Integer.parseInt((String) fields.get(2)),
              millis((String) fields.get(3))));
      if (out.size() == limit) {
        break;
      }
    }
    return out;
  }

  /** How many jobs of one state the indexes hold, across partitions. */
  public long countInState(JobState state) {
    long total = 0;
    for (int p = 0; p < settings.partitions(); p++) {
      Long n = redis.opsForZSet().zCard(settings.base(p) + "state:" + state.name());
      total += n == null ? 0 : n;
    }
    return total;
  }

  /**
   * Whether Redis takes a write now: sets an installation-wide probe key that expires by itself.
   * False while Redis is unreachable, loading, out of memory or read-only.
   */
  public boolean acceptsWrites() {
    try {
      redis.opsForValue().set(settings.prefix() + ":probe", "1", Duration.ofSeconds(10));
      return true;
    } catch (RuntimeException e) {
      return false;
    }
  }

  /** How many leases are held, across partitions. */
  public long leasesHeld() {
    long total = 0;
    for (int p = 0; p < settings.partitions(); p++) {
      Long n = redis.opsForZSet().zCard(settings.base(p) + "leases");
      total += n == null ? 0 : n;
    }
    return total;
  }

  /** How many entries wait in the outbox (due or reserved), across partitions. */
  public long outboxSize() {
    long total = 0;
    for (int p = 0; p < settings.partitions(); p++) {
      Long n = redis.opsForZSet().zCard(settings.base(p) + "due");
      total += n == null ? 0 : n;
    }
    return total;
  }

  /** Jobs waiting in one pool (QUEUED, not yet claimed) and when the oldest began to wait. */
  public record PoolBacklog(long depth, Instant oldestQueuedAt) {}

  public PoolBacklog backlog(String pool) {
    long depth = 0;
    Double oldest = null;
    for (int p = 0; p < settings.partitions(); p++) {
      String key = settings.base(p) + "queued:" + pool;
      Long n = redis.opsForZSet().zCard(key);
      depth += n == null ? 0 : n;
      var first = redis.opsForZSet().rangeWithScores(key, 0, 0);
      if (first != null && !first.isEmpty()) {
        double score = first.iterator().next().getScore();
        oldest = oldest == null ? score : Math.min(oldest, score);
      }
    }
    return new PoolBacklog(depth, oldest == null ? null : Instant.ofEpochMilli(oldest.longValue()));
  }

  /** The due time of the earliest outbox entry, or null when the outbox is empty. */
  public Instant earliestDue() {
    Double earliest = null;
    for (int p = 0; p < settings.partitions(); p++) {
      var first = redis.opsForZSet().rangeWithScores(settings.base(p) + "due", 0, 0);
      if (first != null && !first.isEmpty()) {
        double score = first.iterator().next().getScore();
        earliest = earliest == null ? score : Math.min(earliest, score);
      }
    }
    return earliest == null ? null : Instant.ofEpochMilli(earliest.longValue());
  }

  private record Scored(String base, String id, double score) {}

  private List<Scored> newestAcrossPartitions(String index, int limit) {
    List<Scored> all = new ArrayList<>();
    for (int p = 0; p < settings.partitions(); p++) {
      String base = settings.base(p);
      var tuples = redis.opsForZSet().reverseRangeWithScores(base + index, 0, limit - 1);
      if (tuples != null) {
        for (var t : tuples) {
          all.add(new Scored(base, t.getValue(), t.getScore() == null ? 0 : t.getScore()));
        }
      }
    }
    all.sort(Comparator.comparingDouble(Scored::score).reversed());
    return all.size() > limit ? all.subList(0, limit) : all;
  }

  private DeadJob readDead(String json) {
    ObjectNode node = (ObjectNode) Json.mapper().readTree(json);
    for (String field : List.of("at", "discardedAt")) {
      JsonNode value = node.get(field);
      if (value != null
          && value.isString()
          && value.asString().chars().allMatch(Character::isDigit)) {
        // written by a Lua script: epoch millis as a string
        node.put(field, Instant.ofEpochMilli(Long.parseLong(value.asString())).toString());
      }
    }
    return Json.mapper().treeToValue(node, DeadJob.class);
  }

  private static List<PhaseView> phaseViews(Map<String, String> phases) {
    // field: attempt|name|start or attempt|name|end, value: epoch millis
    Map<String, Instant[]> byPhase = new TreeMap<>();
    Map<String, Integer> attempts = new HashMap<>();
    for (var e : phases.entrySet()) {
      String[] parts = e.getKey().split("\\|");
      String key = parts[0] + "|" + parts[1];
      attempts.put(key, Integer.parseInt(parts[0]));
      Instant[] times = byPhase.computeIfAbsent(key, k -> new Instant[2]);
      times["start".equals(parts[2]) ? 0 : 1] = millis(e.getValue());
    }
    List<PhaseView> views = new ArrayList<>();
    byPhase.forEach(
        (key, times) ->
            views.add(
                new PhaseView(
                    attempts.get(key),
                    key.substring(key.indexOf('|') + 1),
                    times[0],
                    times[1],
                    times[0] != null && times[1] != null
                        ? Duration.between(times[0], times[1]).toMillis()
                        : null)));
    views.sort(
        Comparator.comparingInt(PhaseView::attempt)
            .thenComparing(v -> v.startedAt() == null ? Instant.MAX : v.startedAt()));
    return views;
  }

  private static Instant millis(String value) {
    return value == null || value.isEmpty() ? null : Instant.ofEpochMilli(Long.parseLong(value));
  }

  private static Map<String, String> pairs(JsonNode flat) {
    Map<String, String> map = new HashMap<>();
    List<JsonNode> items = list(flat);
    for (int i = 0; i + 1 < items.size(); i += 2) {
      map.put(items.get(i).asString(), items.get(i + 1).asString());
    }
    return map;
  }

  /** cjson encodes an empty Lua table as {@code {}}: read it as an empty list. */
  private static List<JsonNode> list(JsonNode node) {
    List<JsonNode> out = new ArrayList<>();
    if (node instanceof ArrayNode array) {
      array.forEach(out::add);
    }
    return out;
  }

  /** The partition a job id names, or -1 for a foreign id. */
  public int partitionOf(String jobId) {
    return JobIds.partitionOf(jobId, settings.partitions());
  }

  private JsonNode call(RedisScript<String> script, int partition, String... args) {
    if (partition < 0) {
      return Json.mapper().readTree("{\"outcome\":\"MISSING\",\"found\":false}");
    }
    io.micrometer.core.instrument.Metrics.counter(
            dev.shepherd.model.MetricNames.REDIS_CALLS, "op", scripts.nameOf(script))
        .increment();
    String json = redis.execute(script, List.of(settings.base(partition)), (Object[]) args);
    return Json.mapper().readTree(json);
  }
}
