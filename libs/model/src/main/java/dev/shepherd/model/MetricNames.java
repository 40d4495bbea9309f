package dev.shepherd.model;

/**
 * Every metric Shepherd exposes, named once. Micrometer names here become Prometheus names with
 * dots as underscores, counters ending in {@code _total} and timers in {@code _seconds}; {@code
 * docs/OPERATIONS.md} lists them with their tags, and the Grafana dashboard and alert rules are
 * tested against what the running services really expose.
 */
public final class MetricNames {

  private MetricNames() {}

  /** Tag: the job type. */
  public static final String TAG_TYPE = "type";

  /** Tag: the worker pool. */
  public static final String TAG_POOL = "pool";

  /** Counter {type, pool}: jobs accepted (not duplicates). Scheduler. */
  public static final String JOBS_SUBMITTED = "shepherd.jobs.submitted";

  /** Counter {type, pool}: work messages confirmed by the broker. Scheduler. */
  public static final String JOBS_DISPATCHED = "shepherd.jobs.dispatched";

  /**
   * Counter {type, pool}: jobs not handed out because their submitter's grant was revoked after
   * they were accepted; each ended DEAD (ADR 40). Scheduler.
   */
  public static final String JOBS_REFUSED_AT_DISPATCH = "shepherd.jobs.forbidden";

  /** Counter {type, pool}: attempts claimed. Worker. */
  public static final String JOBS_CLAIMED = "shepherd.jobs.claimed";

  /** Counter {type, pool}: jobs that succeeded. Status-tracker. */
  public static final String JOBS_SUCCEEDED = "shepherd.jobs.succeeded";

  /** Counter {type, pool}: attempts that failed (retryable or not). Status-tracker. */
  public static final String JOBS_FAILED = "shepherd.jobs.failed";

  /**
   * Counter {type, pool}: attempts sent back for another try (failure or lost lease): jobs a
   * transition left in RETRY_WAIT, counted by the engine's {@code JobOutcomeMeters}. Status-tracker
   * and recovery.
   */
  public static final String JOBS_RETRIED = "shepherd.jobs.retried";

  /**
   * Counter {type, pool}: jobs that ended DEAD, counted by the engine's {@code JobOutcomeMeters}.
   * Status-tracker, recovery, and the scheduler (a released last attempt whose outcome never came,
   * a type no pool takes).
   */
  public static final String JOBS_DEAD = "shepherd.jobs.dead";

  /** Counter {type, from}: jobs cancelled, by the state they left. Scheduler. */
  public static final String JOBS_CANCELLED = "shepherd.jobs.cancelled";

  /**
   * Counter {type}: deliveries a worker handed back unclaimed because it has no handler for their
   * type (a rolling deploy), for another worker of the pool. Worker.
   */
  public static final String DELIVERIES_GIVEN_BACK = "shepherd.worker.deliveries.given.back";

  /** Gauge {pool}: jobs QUEUED and not yet claimed. Recovery. */
  public static final String QUEUE_DEPTH = "shepherd.queue.depth";

  /** Gauge {pool}, seconds: how long the oldest QUEUED job has waited. Recovery. */
  public static final String QUEUE_OLDEST_AGE = "shepherd.queue.oldest.age";

  /** Timer {type}: from submission to the claim of the attempt that ran. Worker. */
  public static final String SUBMIT_TO_START = "shepherd.job.submit.to.start";

  /** Timer {type, outcome}: from claim to the attempt's outcome. Worker. */
  public static final String START_TO_FINISH = "shepherd.job.start.to.finish";

  /** Timer {type, phase}: one phase of one attempt. Worker. */
  public static final String PHASE_DURATION = "shepherd.phase.duration";

  /** Gauge: leases held right now. Recovery. */
  public static final String LEASES_HELD = "shepherd.leases.held";

  /** Counter: leases taken back by the reaper after their deadline. Recovery. */
  public static final String LEASES_EXPIRED = "shepherd.leases.expired";

  /** Timer: from a lease's expiry (its deadline) to the publish of the job's next attempt. */
  public static final String LEASE_EXPIRY_TO_REDISPATCH = "shepherd.lease.expiry.to.redispatch";

  /** Counter {reason}: leases released at once (pod gone, worker lost). Recovery. */
  public static final String LEASES_RELEASED = "shepherd.leases.released";

  /** Counter: status events refused for a stale fencing token. Status-tracker. */
  public static final String STALE_REPORTS = "shepherd.status.stale.reports";

  /** Counter: status events ignored as duplicates or late arrivals. Status-tracker. */
  public static final String DUPLICATE_REPORTS = "shepherd.status.duplicate.reports";

  /** Counter: attempts declared abandoned (greedy or stalled worker). */
  public static final String ABANDONED_ATTEMPTS = "shepherd.attempts.abandoned";

  /** Tag: which timeout an attempt passed ({@code startToClose}, {@code stall}, {@code phase}). */
  public static final String TAG_TIMEOUT = "timeout";

  /**
   * Counter {type, timeout}: running attempts the recovery service ended because they passed their
   * startToClose or stall timeout (ADR 18). Recovery.
   */
  public static final String ATTEMPTS_TIMED_OUT = "shepherd.attempts.timed.out";

  /**
   * Counter {type, timeout}: running attempts a worker stopped itself because they passed their
   * startToClose, stall or a phase's timeout, reporting FAILED {@code timeout:<name>}; usually
   * before recovery's pass (ATTEMPTS_TIMED_OUT) would have. Worker.
   */
  public static final String WORKER_ATTEMPTS_TIMED_OUT = "shepherd.worker.attempts.timed.out";

  /** Tag: the distributor an attempt runs on ({@code http}, ADR 44). */
  public static final String TAG_DISTRIBUTOR = "distributor";

  /** Tag: how an attempt ended ({@code succeeded}, {@code failed}, ...). */
  public static final String TAG_OUTCOME = "outcome";

  /**
   * Counter {type, distributor, outcome}: attempts a worker ran on a distributor (ADR 45, 46), by
   * how each ended: succeeded, failed (the backend's failure), timeout (its timeToStart or
   * timeToRun), missing (the backend lost the task), stopped (cancelled, abandoned, interrupted),
   * refused (the backend refused the run: the job is dead) or unreachable (the run failed
   * transiently past its retries). Worker.
   */
  public static final String WORKER_DISTRIBUTED_ATTEMPTS = "shepherd.worker.distributed.attempts";

  /** Tag: what became of a callback ({@code accepted}, {@code bad_signature}, ...). */
  public static final String TAG_ANSWER = "answer";

  /**
   * Counter {distributor, answer}: callbacks of services that run attempts (ADR 45), by what became
   * of each: accepted, unknown_job, not_current, bad_signature, stale_timestamp, wrong_attempt,
   * unreadable, worker_unreachable. Scheduler.
   */
  public static final String ATTEMPT_CALLBACKS = "shepherd.attempt.callbacks";

  /** Counter: work deliveries acked without running (attempt held or finished). Worker. */
  public static final String DUPLICATE_DELIVERIES = "shepherd.worker.duplicate.deliveries";

  /**
   * Counter {type, outcome}: attempts whose outcome (SUCCEEDED or FAILED) the broker confirmed, on
   * its way to the status-tracker. Worker.
   */
  public static final String OUTCOMES_PUBLISHED = "shepherd.worker.outcomes.published";

  /** Counter: attempts whose lease renewal was refused. Worker. */
  public static final String LEASES_LOST = "shepherd.worker.leases.lost";

  /** Tag: what stopped an attempt by order ({@code cancel}, {@code abandon}). */
  public static final String TAG_KIND = "kind";

  /**
   * Counter {type, kind}: running attempts a worker stopped because their job was cancelled ({@code
   * cancel}: by a control order or a renewal refused as CANCELLED) or because recovery abandoned
   * them past a timeout ({@code abandon}); once per attempt, not counted as leases lost. Worker.
   */
  public static final String ATTEMPTS_CANCELLED = "shepherd.worker.attempts.cancelled";

  /** Counter {source}: messages that could not be read and became dead-job records. */
  public static final String UNREADABLE_MESSAGES = "shepherd.unreadable.messages";

  /** Counter: dead-lettered messages recorded as dead jobs. Recovery. */
  public static final String DEAD_LETTERS = "shepherd.dead.letters";

  /** Gauge: outbox entries waiting (due, delayed or reserved). Scheduler. */
  public static final String OUTBOX_SIZE = "shepherd.outbox.size";

  /** Gauge, seconds: how far the oldest due outbox entry is past its due time. Scheduler. */
  public static final String OUTBOX_OLDEST_AGE = "shepherd.outbox.oldest.age";

  /** Timer: from publish to the broker's confirm. Every publishing service. */
  public static final String CONFIRM_LATENCY = "shepherd.publish.confirm.latency";

  /** Counter {op}: round trips to Redis on the job path (one per script call). */
  public static final String REDIS_CALLS = "shepherd.redis.calls";

  /** Counter {exchange}: messages published and confirmed. */
  public static final String MESSAGES_PUBLISHED = "shepherd.messages.published";

  /** Counter {queue}: messages delivered to a Shepherd consumer. */
  public static final String MESSAGES_CONSUMED = "shepherd.messages.consumed";

  /** Gauge {queue}: consumers paused by a Redis or broker failure, holding their delivery. */
  public static final String CONSUMERS_PAUSED = "shepherd.consumers.paused";

  /** Counter {queue}: deliveries processed again in place after a Redis or broker failure. */
  public static final String INFRASTRUCTURE_RETRIES = "shepherd.infrastructure.retries";

  /** Gauge: ordering keys that are DOWN (ADR 29). Recovery. */
  public static final String ORDERING_KEYS_DOWN = "shepherd.ordering.keys.down";

  /** Gauge, seconds: how long the ordering key down the longest has been down. Recovery. */
  public static final String ORDERING_KEYS_DOWN_OLDEST_AGE =
      "shepherd.ordering.keys.down.oldest.age";

  /** Gauge {state}: workers active, draining or lost. Recovery. */
  public static final String WORKERS = "shepherd.workers";
}
