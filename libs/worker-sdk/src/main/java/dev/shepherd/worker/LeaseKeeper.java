package dev.shepherd.worker;

import dev.shepherd.store.Leases;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * Renews the lease of each running attempt every third of its TTL, and stops the attempt once its
 * lease can no longer be trusted:
 *
 * <ul>
 *   <li>A renewal refused because the job was cancelled is a cancel order that came this way rather
 *       than from the control exchange (the order was lost, or has not arrived yet): the attempt is
 *       cancelled gracefully, as {@link CancelGrace#cancel} does, its handler interrupted only
 *       after the cancel grace. It is not a lost lease.
 *   <li>Any other refused renewal means another attempt owns the job now (the reaper or recovery
 *       took the lease back): the attempt is cancelled and its handler interrupted at once.
 *   <li>A renewal that fails (Redis unreachable, a time-out) is tried again at the next beat. But
 *       if no renewal is confirmed for the TTL less a safety margin, counted from the moment the
 *       last confirmed renewal (or the claim) was sent, the lease may already have run out in Redis
 *       and another worker may be running the job: the attempt is cancelled and its handler
 *       interrupted before that can happen, so two handlers never run the same job knowingly. Redis
 *       command time-outs are kept below a third of the TTL (the store configuration caps them), so
 *       a hung call cannot hide a lost lease for longer.
 * </ul>
 *
 * <p>Renewals run on a thread of their own, and the deadlines on another, so neither a heartbeat
 * nor a renewal stuck in a time-out delays the moment a handler is stopped. The deadlines are one
 * check of every running attempt each {@link #deadlineCheck} (a twentieth of the trust, 250 ms at
 * most), which stops an attempt once it has gone unconfirmed for the trust less one check: never
 * later than the trust, and no timer set and cancelled per job (each woke the timer's thread).
 *
 * <p>Once the attempt's outcome is published (confirmed by the broker) the lease is still renewed
 * until the status-tracker applies the outcome and releases it. Those leases are renewed together,
 * one call per partition per beat whatever their number, and marked as waiting for their outcome so
 * that recovery does not count them against the worker's capacity; a lease the call no longer finds
 * running was applied and is dropped (ADR 11). A status-tracker that lags or restarts must not make
 * a finished job run again: the outcome is safe in a durable queue. The hold is bounded, so an
 * outcome that is never applied (its message dead-lettered) lets the lease expire after all. An
 * outcome the worker wrote into the store itself (ADR 56) was applied when the write returned: its
 * hold ends there, without a beat.
 *
 * <p>That beat comes every {@link #waitingBeat} (a second at most), and a worker that stops runs
 * one last beat. An attempt that ran for {@link #quickAttempt} or longer has its lease marked
 * before its outcome is published ({@link Renewal#markOutcomeComing}); a quicker one is marked by
 * the next beat, so a job of a few milliseconds costs no Redis call of its own between its claim
 * and its outcome (ADR 37). Its lease is then younger than recovery's over-capacity grace (10 s)
 * until well after the beat, so it never counts against the worker's capacity.
 */
final class LeaseKeeper implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(LeaseKeeper.class);

  /** The longest {@link #deadlineCheck}. */
  static final Duration MAX_DEADLINE_CHECK = Duration.ofMillis(250);

  /** The longest {@link #waitingBeat}. */
  static final Duration MAX_WAITING_BEAT = Duration.ofSeconds(1);

  /**
   * The longest {@link #quickAttempt}: with the beat, an unmarked lease is at most three seconds
   * old, far below recovery's default over-capacity grace of ten.
   */
  static final Duration MAX_QUICK_ATTEMPT = Duration.ofSeconds(2);

  private final Leases leases;
  private final ScheduledExecutorService renewals;
  private final ScheduledExecutorService deadlines;
  private final Duration leaseTtl;
  private final Duration trustedFor;
  private final long deadlineCheckNanos;
  private final long renewEveryMillis;
  private final long quickAttemptNanos;
  private final WorkerMeters meters;
  private final CancelGrace cancelGrace;

  /** The running attempts' renewals, whose deadlines {@link #checkDeadlines} checks. */
  private final Set<Renewal> running = ConcurrentHashMap.newKeySet();

  /** Attempts whose outcome is published, by job id, with when to stop waiting (nanoTime). */
  private final Map<String, Waiting> waiting = new ConcurrentHashMap<>();

  private record Waiting(Claim claim, long untilNanos, Duration hold) {}

  /**
   * @param meters counts attempts stopped because their lease was refused or went unconfirmed
   * @param cancelGrace stops an attempt whose renewal says its job was cancelled
   */
  LeaseKeeper(Leases leases, Duration leaseTtl, WorkerMeters meters, CancelGrace cancelGrace) {
    this.leases = leases;
    this.leaseTtl = leaseTtl;
    this.trustedFor = trustedFor(leaseTtl);
    this.deadlineCheckNanos = deadlineCheck(trustedFor).toNanos();
    this.renewEveryMillis = Math.max(1, leaseTtl.dividedBy(3).toMillis());
    this.quickAttemptNanos = quickAttempt(leaseTtl).toNanos();
    this.meters = meters;
    this.cancelGrace = cancelGrace;
    this.renewals = Timers.daemon("shepherd-lease-renewal");
    this.deadlines = Timers.daemon("shepherd-lease-deadline");
    long every = waitingBeat(leaseTtl).toMillis();
    renewals.scheduleAtFixedRate(this::renewWaiting, every, every, TimeUnit.MILLISECONDS);
    deadlines.scheduleAtFixedRate(
        this::checkDeadlines, deadlineCheckNanos, deadlineCheckNanos, TimeUnit.NANOSECONDS);
  }

  /**
   * How often the running attempts' deadlines are checked: a twentieth of {@code trustedFor}, at
   * most {@link #MAX_DEADLINE_CHECK} and at least a millisecond.
   */
  static Duration deadlineCheck(Duration trustedFor) {
    return Timers.checkPeriod(trustedFor, 20, MAX_DEADLINE_CHECK);
  }

  /** On the deadline thread: stops every running attempt that went unconfirmed too long. */
  private void checkDeadlines() {
    long now = System.nanoTime();
    for (Renewal renewal : running) {
      renewal.expireIfUntrusted(now);
    }
  }

  /**
   * How often the leases waiting for their outcome are renewed and marked: a third of the TTL, and
   * at most a second, so a quick attempt's lease is marked within a second of its outcome.
   */
  static Duration waitingBeat(Duration leaseTtl) {
    Duration third = Duration.ofMillis(Math.max(1, leaseTtl.dividedBy(3).toMillis()));
    return third.compareTo(MAX_WAITING_BEAT) < 0 ? third : MAX_WAITING_BEAT;
  }

  /**
   * How long an attempt must have run for its lease to be marked before its outcome is published: a
   * sixth of the TTL, and at most two seconds. A quicker attempt is left to the next beat.
   */
  static Duration quickAttempt(Duration leaseTtl) {
    Duration sixth = leaseTtl.dividedBy(6);
    return sixth.compareTo(MAX_QUICK_ATTEMPT) < 0 ? sixth : MAX_QUICK_ATTEMPT;
  }

  /**
   * How long after the last confirmed renewal was sent an attempt still trusts its lease: the TTL
   * less a sixth of it (5 s of a 30 s lease). The margin covers what lies between this worker and
   * the reaper: the two clocks' rates, the time a handler takes to notice the interrupt, and the
   * reaper's poll, which may find the lease expired as early as one TTL after the call was sent.
   */
  static Duration trustedFor(Duration leaseTtl) {
    return leaseTtl.minus(leaseTtl.dividedBy(6));
  }

  /**
   * Stops renewing every lease; called when the worker stops. One last beat first marks the leases
   * of quick attempts whose outcome was published since the last one, so that recovery, which
   * releases this worker's leases once it is gone, waits for their outcomes (ADR 14) instead of
   * running those jobs again.
   */
  @Override
  public void close() {
    try {
      renewals.submit(this::renewWaiting).get(leaseTtl.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (ExecutionException | TimeoutException | RejectedExecutionException e) {
      log.warn("the last beat of the leases waiting for their outcome failed: {}", e.toString());
    }
    renewals.shutdownNow();
    deadlines.shutdownNow();
  }

  /** How many published outcomes wait for the status-tracker (their leases still held). */
  int waitingCount() {
    return waiting.size();
  }

  /**
   * Stops holding the lease of an attempt whose outcome could not be published: it expires after
   * its TTL and the job runs again elsewhere.
   */
  void stopHolding(Claim claim) {
    waiting.computeIfPresent(
        claim.jobId(), (id, w) -> w.claim().fencingToken() == claim.fencingToken() ? null : w);
  }

  /**
   * Stops holding the lease of an attempt whose outcome this worker wrote into the store itself
   * (ADR 56): the store released it, so there is nothing to wait for.
   */
  void outcomeApplied(Claim claim) {
    stopHolding(claim);
  }

  /** True while the attempt holding {@code fencingToken} on {@code jobId} waits for its outcome. */
  boolean isWaitingFor(String jobId, long fencingToken) {
    Waiting w = waiting.get(jobId);
    return w != null && w.claim().fencingToken() == fencingToken;
  }

  /** One beat for every lease that waits for its outcome: one call per partition. */
  private void renewWaiting() {
    if (waiting.isEmpty()) {
      return;
    }
    long now = System.nanoTime();
    Map<Integer, List<Leases.WaitingOutcome>> byPartition = new HashMap<>();
    for (Waiting w : waiting.values()) {
      if (now - w.untilNanos() > 0) {
        waiting.remove(w.claim().jobId());
        log.warn(
            "the outcome of {} was not applied within {}; letting its lease expire",
            w.claim(),
            w.hold());
        continue;
      }
      byPartition
          .computeIfAbsent(leases.partitionOf(w.claim().jobId()), p -> new ArrayList<>())
          .add(new Leases.WaitingOutcome(w.claim().jobId(), w.claim().fencingToken()));
    }
    byPartition.forEach(
        (partition, outcomes) -> {
          try {
            Set<String> held = leases.holdForOutcomes(partition, outcomes, leaseTtl);
            outcomes.stream()
                .map(Leases.WaitingOutcome::jobId)
                .filter(id -> !held.contains(id))
                .forEach(waiting::remove); // applied: the tracker released the lease
          } catch (RuntimeException e) {
            log.warn(
                "could not renew {} leases waiting for their outcome; trying again in {}: {}",
                outcomes.size(),
                leaseTtl.dividedBy(3),
                e.toString());
          }
        });
  }

  /** The renewal of one attempt's lease, and the deadline by which one must be confirmed. */
  final class Renewal {

    private final Attempt<?> attempt;
    private final long claimSentAt;
    private volatile ScheduledFuture<?> future;
    private long confirmedSentAt; // guarded by this: nanoTime the last confirmed call was sent
    private boolean stopped; // guarded by this

    private Renewal(Attempt<?> attempt, long claimSentAt) {
      this.attempt = attempt;
      this.claimSentAt = claimSentAt;
    }

    /** Stops renewing: the lease expires after its TTL unless something releases it first. */
    void stop() {
      end();
    }

    /** Stops renewing and the deadline; true if this call stopped them (not an earlier one). */
    private boolean end() {
      ScheduledFuture<?> f = future;
      if (f != null) {
        f.cancel(false);
      }
      running.remove(this);
      synchronized (this) {
        boolean first = !stopped;
        stopped = true;
        return first;
      }
    }

    /**
     * The handler is done and its outcome is about to be published. An attempt that ran for {@link
     * #quickAttempt} or longer has its lease marked as waiting for the outcome now (and renewed),
     * not at the next beat: recovery may already count it against the worker's capacity, or time it
     * out, and a worker that dies right after publishing leaves no unmarked lease. A quicker
     * attempt's lease is marked by the next beat, within {@link #waitingBeat} (ADR 37). Best
     * effort: if Redis fails, the beats after the publish mark it.
     */
    void markOutcomeComing() {
      if (System.nanoTime() - claimSentAt < quickAttemptNanos) {
        return;
      }
      Claim claim = attempt.claim();
      try {
        leases.holdForOutcome(claim.jobId(), claim.fencingToken(), leaseTtl);
      } catch (RuntimeException e) {
        log.warn(
            "could not mark the lease of {} as waiting for its outcome; the next beat will: {}",
            claim,
            e.toString());
      }
    }

    /**
     * The outcome is on its way: keep renewing, with the other leases waiting for their outcome,
     * until the status-tracker applied it (the renewal is refused), or for at most {@code hold}, or
     * until {@link #stopHolding} says its publish was given up.
     */
    void holdUntilApplied(Duration hold) {
      stop();
      Claim claim = attempt.claim();
      waiting.put(claim.jobId(), new Waiting(claim, System.nanoTime() + hold.toNanos(), hold));
    }

    /** A call sent at {@code sentAt} extended the lease: the deadline moves to one trust later. */
    private synchronized void confirmed(long sentAt) {
      if (stopped || sentAt - confirmedSentAt < 0) {
        return;
      }
      confirmedSentAt = sentAt;
    }

    /**
     * On the deadline thread, at {@code now}: when no renewal was confirmed for the trust less one
     * check (the next check would come after the trust), the lease is no longer ours.
     */
    private void expireIfUntrusted(long now) {
      synchronized (this) {
        if (stopped || now - confirmedSentAt < trustedFor.toNanos() - deadlineCheckNanos) {
          return; // stopped, or still trusted until after the next check
        }
        stopped = true;
      }
      running.remove(this);
      ScheduledFuture<?> f = future;
      if (f != null) {
        f.cancel(false);
      }
      Claim claim = attempt.claim();
      MDC.setContextMap(claim.mdc());
      try {
        meters.leaseLost();
        log.warn(
            "no renewal of the lease of job {} attempt {} (token {}) was confirmed for {}: it may"
                + " have expired and the job may run elsewhere; interrupting the handler and"
                + " reporting nothing more",
            claim.jobId(),
            claim.attempt(),
            claim.fencingToken(),
            trustedFor);
        attempt.cancel(
            "its lease could not be renewed: no renewal was confirmed for " + trustedFor);
      } finally {
        MDC.clear();
      }
    }

    private void renew() {
      if (attempt.isWithdrawn()) {
        stop();
        return;
      }
      Claim claim = attempt.claim();
      MDC.setContextMap(claim.mdc());
      try {
        long sentAt = System.nanoTime();
        Leases.LeaseRenewal renewal =
            leases.renewLease(claim.jobId(), claim.fencingToken(), leaseTtl);
        if (renewal == Leases.LeaseRenewal.RENEWED) {
          confirmed(sentAt);
          return;
        }
        if (!end()) {
          return; // the deadline stopped the attempt first
        }
        if (renewal == Leases.LeaseRenewal.CANCELLED) {
          cancelGrace.cancel(attempt, "cancelled"); // logs and counts, unless an order did first
          return;
        }
        meters.leaseLost();
        log.warn(
            "lost the lease of job {} attempt {} (token {}): another attempt owns the job;"
                + " interrupting the handler and reporting nothing more",
            claim.jobId(),
            claim.attempt(),
            claim.fencingToken());
        attempt.cancel("its lease was lost: another attempt owns the job");
      } catch (RuntimeException e) {
        log.warn(
            "could not renew the lease of job {} attempt {}; trying again in {}, and stopping the"
                + " handler if none is confirmed within {} of the last: {}",
            claim.jobId(),
            claim.attempt(),
            leaseTtl.dividedBy(3),
            trustedFor,
            e.toString());
      } finally {
        MDC.clear();
      }
    }
  }

  /**
   * Starts renewing; {@link Renewal#stop()} stops.
   *
   * @param claimSentAt {@link System#nanoTime()} when the claim that took the lease was sent: the
   *     lease is trusted for {@link #trustedFor} from then until a renewal is confirmed
   */
  Renewal keep(Attempt<?> attempt, long claimSentAt) {
    long every = renewEveryMillis;
    var renewal = new Renewal(attempt, claimSentAt);
    synchronized (renewal) {
      renewal.confirmedSentAt = claimSentAt - 1; // so the claim itself counts as confirmed
    }
    renewal.confirmed(claimSentAt);
    running.add(renewal);
    renewal.future =
        renewals.scheduleAtFixedRate(renewal::renew, every, every, TimeUnit.MILLISECONDS);
    return renewal;
  }
}
