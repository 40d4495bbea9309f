package dev.shepherd.worker;

import dev.shepherd.messaging.InfrastructurePause;
import dev.shepherd.messaging.Topology;
import dev.shepherd.model.TraceParent;
import dev.shepherd.model.WorkMessage;
import dev.shepherd.store.ClaimResult;
import dev.shepherd.store.DeadJobs;
import dev.shepherd.store.Leases;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.amqp.core.Message;

/**
 * What a slot does with one delivery from the pool's queue ({@link Slots.Held}): reads it (one that
 * cannot be read becomes a dead-job record and is acked), gives back a job type this worker has no
 * handler for while the queue will deliver it again ({@link NoHandlerGiveBack}), claims the attempt
 * in Redis (retrying in place while Redis is out, see {@link InfrastructurePause}), acks a refused
 * claim as a duplicate, and hands a claimed attempt to {@link AttemptExecution} on the slot's
 * thread, the delivery held for the ack hold.
 */
final class DeliveryListener implements Consumer<Slots.Held> {

  private static final Logger log = LoggerFactory.getLogger(DeliveryListener.class);

  private final WorkerSettings settings;
  private final Leases leaseStore;
  private final DeadJobs deadJobs;
  private final String queue;
  private final NoHandlerGiveBack noHandler;
  private final LeaseKeeper leases;
  private final InfrastructurePause claimPause;
  private final AttemptExecution execution;
  private final Clock clock;
  private final WorkerMeters meters;

  /**
   * Tokens of the attempts this worker claimed and still handles (running, or publishing their
   * outcome). A claim repeated for one of them returns the same token (its first reply may have
   * been lost): that is a second delivery of work in hand, not a second run.
   */
  private final Set<Long> inHand = ConcurrentHashMap.newKeySet();

  /**
   * @param claimPause how a claim that failed because Redis did is retried in place
   */
  DeliveryListener(
      WorkerSettings settings,
      Leases leaseStore,
      DeadJobs deadJobs,
      Topology topology,
      Handlers handlers,
      LeaseKeeper leases,
      InfrastructurePause claimPause,
      AttemptExecution execution,
      Clock clock,
      WorkerMeters meters) {
    this.settings = settings;
    this.leaseStore = leaseStore;
    this.deadJobs = deadJobs;
    this.queue = topology.workQueue(settings.pool());
    this.noHandler = new NoHandlerGiveBack(handlers, topology, settings.noHandlerPause(), meters);
    this.leases = leases;
    this.claimPause = claimPause;
    this.execution = execution;
    this.clock = clock;
    this.meters = meters;
  }

  @Override
  public void accept(Slots.Held held) {
    meters.consumed();
    Message message = held.message();
    // read once: the no-handler check and the claim both use what was read
    Delivery delivery = Delivery.read(message.getBody());
    if (noHandler.gaveBack(held, delivery)) {
      return;
    }
    ClaimedWork claimed;
    try {
      claimed = claim(delivery, message);
    } catch (RuntimeException e) {
      // Redis failed before the attempt was claimed. Handing the delivery back would spend the
      // message's delivery limit on the outage (five returns take milliseconds), so the slot keeps
      // it and claims again once Redis answers; a repeated claim of the same attempt by this
      // worker returns the same token. A bug goes back to the queue, towards the limit.
      var retried = new AtomicReference<ClaimedWork>();
      try {
        if (!claimPause.retry(e, held::isHeld, () -> retried.set(claim(delivery, message)))) {
          held.giveBack(); // stopping: another worker takes it (if it is still held)
          return;
        }
      } catch (RuntimeException bug) {
        log.warn("could not claim a work message; it will be delivered again: {}", bug.toString());
        held.giveBack();
        return;
      }
      claimed = retried.get();
    }
    if (claimed == null) {
      held.ack(); // nothing to run: a duplicate, or an unreadable message now recorded
      return;
    }
    held.claimed(); // held unacked for the ack hold, then acked: no delivery waits behind this job
    try {
      execution.run(claimed);
    } finally {
      inHand.remove(claimed.fencingToken());
    }
  }

  /**
   * Claims one delivery, read. Returns null when there is nothing to run (unreadable, or a
   * duplicate); throws when Redis fails, so the delivery is not acked.
   */
  private ClaimedWork claim(Delivery delivery, Message message) {
    WorkMessage work =
        switch (delivery) {
          case Delivery.Unreadable u -> {
            recordUnreadable(u.problem(), message);
            yield null;
          }
          case Delivery.Readable r -> r.work();
        };
    if (work == null) {
      return null;
    }
    if (leaseStore.partitionOf(work.jobId()) < 0) {
      recordUnreadable("work message names '" + work.jobId() + "', not a Shepherd job id", message);
      return null;
    }
    long claimSentAt = System.nanoTime(); // the lease is trusted for less than a TTL from here
    Instant claimedAt = clock.instant(); // and timeouts run from here: never later than the server
    return switch (leaseStore.claim(
        work.jobId(), work.attempt(), settings.workerId(), settings.leaseTtl())) {
      case ClaimResult.Refused refused -> {
        meters.duplicate();
        log.debug(
            "duplicate delivery of job {} attempt {}: {} ({})",
            work.jobId(),
            work.attempt(),
            refused.reason(),
            refused.state());
        yield null;
      }
      case ClaimResult.Claimed c
          when !inHand.add(c.fencingToken())
              || leases.isWaitingFor(work.jobId(), c.fencingToken()) -> {
        meters.duplicate();
        log.debug(
            "duplicate delivery of job {} attempt {}: this worker already runs it",
            work.jobId(),
            work.attempt());
        yield null;
      }
      case ClaimResult.Claimed c ->
          new ClaimedWork(
              work,
              c.fencingToken(),
              claimSentAt,
              claimedAt,
              c.timeouts(),
              c.heartbeatDetails(),
              trace(message),
              c.transaction());
    };
  }

  private void recordUnreadable(String problem, Message message) {
    String raw = new String(message.getBody(), StandardCharsets.UTF_8);
    var dead = deadJobs.recordDead(null, null, problem, queue, raw);
    meters.unreadable();
    log.warn("work message from {} recorded as dead job {}: {}", queue, dead.id(), problem);
  }

  /** The work message's trace context, or a new trace when it came without one. */
  private static TraceParent trace(Message message) {
    Object header = message.getMessageProperties().getHeader(TraceParent.HEADER);
    return TraceParent.parse(header == null ? null : header.toString())
        .orElseGet(TraceParent::newRoot);
  }
}
