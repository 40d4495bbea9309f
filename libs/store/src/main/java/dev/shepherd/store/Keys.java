package dev.shepherd.store;

import dev.shepherd.model.JobIds;
import dev.shepherd.model.JobState;
import java.util.Collection;
import java.util.List;

/**
 * Every Redis key name of the store, written here and nowhere else. A partition's keys start with
 * its base, {@code <prefix>:{pNN}:}, whose hash tag keeps the partition in one Redis Cluster slot;
 * {@link Name} lists the names after that base once, and both the Java builders below and the Lua
 * key helpers every script starts with ({@link #luaHelpers()}, rendered by {@link Scripts}) are
 * made from it. Index names such as {@link #JOBS} or {@link #stateIndex} are relative to the base.
 */
public final class Keys {

  /**
   * The key names of a partition, relative to its base: a fixed name, or a name around one part (a
   * job id, a state, a pool, an idempotency key). Each becomes a Lua helper of the same meaning:
   * {@code jobKey(id)}, {@code dueKey}, ...
   */
  enum Name {
    /** The hash of one job. */
    JOB("jobKey", "id", "job:", ""),
    /** One JSON line per transition of a job. */
    HISTORY("historyKey", "id", "job:", ":history"),
    /** When each phase of each attempt of a job started and ended. */
    PHASES("phasesKey", "id", "job:", ":phases"),
    /** The lease of a job's running attempt: {@code <workerId>|<token>}. */
    LEASE("leaseKey", "id", "lease:", ""),
    /** The jobs in one state. */
    STATE("stateKey", "state", "state:", ""),
    /** A pool's QUEUED jobs, scored by when each began to wait. */
    QUEUED("queuedKey", "pool", "queued:", ""),
    /** A pool's QUEUED jobs, scored by when each was queued or last published again. */
    REQUEUED("requeuedKey", "pool", "requeued:", ""),
    /** The id of the job an idempotency key made. */
    IDEMPOTENCY("idemKey", "key", "idem:", ""),
    /**
     * The unfinished jobs of one ordering key, scored by their place in the key's order (ADR 29):
     * only the first may be dispatched.
     */
    KEY_QUEUE("keyQueueKey", "key", "okey:", ""),
    /**
     * The jobs of one concurrency key that hold one of its slots, from when the dispatcher took
     * them until their attempt ends (ADR 30).
     */
    KEY_ACTIVE("keyActiveKey", "key", "ckey:", ":active"),
    /** The jobs of one concurrency key waiting for a slot, oldest first (ADR 30). */
    KEY_WAITING("keyWaitingKey", "key", "ckey:", ":waiting"),
    /** A dead-job record (JSON). */
    DEAD_RECORD("deadRecordKey", "id", "deadrec:", ""),
    /** The outbox: entries scored by when they are due. */
    DUE("dueKey", null, "due", ""),
    /** Held leases, scored by when they expire. */
    LEASES("leasesKey", null, "leases", ""),
    /** Deadlines of running attempts' and queued jobs' timeouts (ADR 18). */
    TIMEOUTS("timeoutsKey", null, "timeouts", ""),
    /** Every job of a partition, scored by when it was submitted. */
    JOBS("jobsKey", null, "jobs", ""),
    /** Dead-job records, scored by when the job died. */
    DEAD("deadKey", null, "dead", ""),
    /** The last place given in each ordering key's order, while the key has unfinished jobs. */
    KEY_PLACES("keyPlacesKey", null, "okeys", ""),
    /** The ordering keys that are DOWN, each with when it went down (epoch ms). */
    KEYS_DOWN("keysDownKey", null, "okeysdown", ""),
    /**
     * The last transaction id given in each ordering key (ADR 31), while the key has unfinished
     * jobs; a new one is never below the clock in microseconds, so ids keep growing past its end.
     */
    KEY_TXNS("keyTxnsKey", null, "okeytxns", ""),
    /** Discarded dead-job records, scored by when they were discarded. */
    DISCARDED("discardedKey", null, "discarded", ""),
    /**
     * Not a key: the channel a partition's scripts publish a job id on when they made it due now
     * where no dispatcher was told (an ordering key's next job, a concurrency key's freed slot).
     */
    WAKE("wakeKey", null, "wake", ""),
    /**
     * Not a key: the channel a partition's scripts publish an awaited job's id on when it finishes
     * (SUCCEEDED, DEAD, CANCELLED), for the scheduler's push to waiting clients.
     */
    FINISHED("finishedKey", null, "finished", "");

    /** The Lua helper's name. */
    final String lua;

    /** The Lua helper's parameter, or null for a fixed name. */
    private final String part;

    private final String before;
    private final String after;

    Name(String lua, String part, String before, String after) {
      this.lua = lua;
      this.part = part;
      this.before = before;
      this.after = after;
    }

    /** Whether this is a fixed name ({@code due}) rather than one around a part. */
    boolean fixed() {
      return part == null;
    }

    /** The name of a fixed key, e.g. {@code due}. */
    String relative() {
      if (!fixed()) {
        throw new IllegalStateException(this + " takes a " + part);
      }
      return before;
    }

    /** The name around {@code value}, e.g. {@code job:<id>:history}. */
    String relative(String value) {
      if (fixed()) {
        throw new IllegalStateException(this + " is a fixed name");
      }
      return before + value + after;
    }

    /** This name as a Lua local over {@code base}, e.g. {@code local dueKey = base .. 'due'}. */
    String luaHelper() {
      if (fixed()) {
        return "local %s = base .. '%s'".formatted(lua, before);
      }
      String tail = after.isEmpty() ? "" : " .. '" + after + "'";
      return "local function %s(%s) return base .. '%s' .. %s%s end"
          .formatted(lua, part, before, part, tail);
    }
  }

  /** Every job of a partition, scored by when it was submitted. */
  public static final String JOBS = Name.JOBS.relative();

  /** Dead-job records, scored by when the job died. */
  public static final String DEAD = Name.DEAD.relative();

  /** Discarded dead-job records, scored by when they were discarded. */
  public static final String DISCARDED = Name.DISCARDED.relative();

  /** Held leases, scored by when they expire. */
  public static final String LEASES = Name.LEASES.relative();

  /** The outbox: entries scored by when they are due. */
  public static final String DUE = Name.DUE.relative();

  /** The last place given in each ordering key's order, while the key has unfinished jobs. */
  public static final String KEY_PLACES = Name.KEY_PLACES.relative();

  /** The ordering keys that are DOWN, each with when it went down (epoch ms). */
  public static final String KEYS_DOWN = Name.KEYS_DOWN.relative();

  private final StoreSettings settings;

  /** Each partition's key base, made once: every script call names one. */
  private final String[] bases;

  public Keys(StoreSettings settings) {
    this.settings = settings;
    this.bases = new String[settings.partitions()];
    for (int p = 0; p < bases.length; p++) {
      bases[p] = "%s:{p%02d}:".formatted(settings.prefix(), p);
    }
  }

  /** The channel the scheduler listens on for awaited jobs that finished in {@code partition}. */
  public String finishedChannel(int partition) {
    return of(partition, Name.FINISHED.relative());
  }

  /** The channel a dispatcher listens on for jobs made due now in {@code partition}. */
  public String wakeChannel(int partition) {
    return of(partition, Name.WAKE.relative());
  }

  public int partitions() {
    return settings.partitions();
  }

  /** The partition a job id (or dead-job record id) names, or -1 for a foreign id. */
  public int partitionOf(String jobId) {
    return JobIds.partitionOf(jobId, settings.partitions());
  }

  /** The partition whose {@code idem:} key holds this idempotency key. */
  public int partitionOfKey(String idempotencyKey) {
    return JobIds.partitionForKey(idempotencyKey, settings.partitions());
  }

  /** The key base of a partition, e.g. {@code shepherd:{p07}:}; the scripts' {@code KEYS[1]}. */
  public String base(int partition) {
    return partition >= 0 && partition < bases.length
        ? bases[partition]
        : "%s:{p%02d}:".formatted(settings.prefix(), partition);
  }

  /** A key of a partition: {@code name} after the partition's base. */
  public String of(int partition, String name) {
    return base(partition) + name;
  }

  /** The hash of one job. */
  public String job(int partition, String jobId) {
    return of(partition, Name.JOB.relative(jobId));
  }

  /** The hash of one job, in the partition its id names. */
  public String job(String jobId) {
    return job(partitionOf(jobId), jobId);
  }

  /** A dead-job record (JSON). */
  public String deadRecord(int partition, String recordId) {
    return of(partition, Name.DEAD_RECORD.relative(recordId));
  }

  /** A dead-job record (JSON), in the partition its id names. */
  public String deadRecord(String recordId) {
    return deadRecord(partitionOf(recordId), recordId);
  }

  /** The id of the job an idempotency key made. */
  public String idempotencyKey(String key) {
    return of(partitionOfKey(key), Name.IDEMPOTENCY.relative(key));
  }

  /**
   * The id of the job an idempotency key made with an ordering key: such a key lives in the
   * ordering key's partition, with the job.
   */
  public String idempotencyKey(String key, String orderingKey) {
    return idempotencyKey(key, orderingKey, "");
  }

  /**
   * The id of the job an idempotency key of {@code tenant}'s made (empty for none): a tenant's key
   * is stored as {@code <tenant>:<key>}, in the partition of the key the producer gave (ADR 40).
   */
  public String idempotencyKey(String key, String orderingKey, String tenant) {
    String stored = tenant == null || tenant.isEmpty() ? key : tenant + ":" + key;
    return of(
        partitionOfKey(orderingKey == null ? key : orderingKey), Name.IDEMPOTENCY.relative(stored));
  }

  /** The jobs of a concurrency key that hold a slot (ADR 30). */
  public String keyActive(String concurrencyKey) {
    return of(partitionOfKey(concurrencyKey), Name.KEY_ACTIVE.relative(concurrencyKey));
  }

  /** The jobs of a concurrency key that wait for a slot, oldest first (ADR 30). */
  public String keyWaiting(String concurrencyKey) {
    return of(partitionOfKey(concurrencyKey), Name.KEY_WAITING.relative(concurrencyKey));
  }

  /** The unfinished jobs of an ordering key, in their order (ADR 29). */
  public String keyQueue(String orderingKey) {
    return of(partitionOfKey(orderingKey), Name.KEY_QUEUE.relative(orderingKey));
  }

  /**
   * The index of the jobs in one state, for every state but QUEUED. The RUNNING jobs are those
   * whose lease is held: their index is {@link #LEASES}, scored by each lease's deadline, which the
   * claim and every release keep, so no script keeps a second index of them (ADR 38). The QUEUED
   * jobs are those of their pools' {@link #queuedIndex} (ADR 51): see {@link #stateIndexes}.
   *
   * @throws IllegalArgumentException for QUEUED, which has one index per pool
   */
  public static String stateIndex(JobState state) {
    if (state == JobState.QUEUED) {
      throw new IllegalArgumentException("QUEUED jobs are indexed per pool: queuedIndex(pool)");
    }
    return state == JobState.RUNNING ? LEASES : Name.STATE.relative(state.name());
  }

  /**
   * The indexes that together list the jobs in one state: {@link #stateIndex}, or for QUEUED the
   * {@link #queuedIndex} of each of {@code pools} (a QUEUED job is in its pool's alone, ADR 51).
   */
  public static List<String> stateIndexes(JobState state, Collection<String> pools) {
    if (state != JobState.QUEUED) {
      return List.of(stateIndex(state));
    }
    return pools.stream().sorted().map(Keys::queuedIndex).toList();
  }

  /**
   * The index of QUEUED jobs the scripts kept before ADR 51 ({@code state:QUEUED}): no longer
   * written, trimmed until the jobs it names are gone.
   */
  public static final String FORMER_QUEUED_INDEX = Name.STATE.relative(JobState.QUEUED.name());

  /**
   * The index of RUNNING jobs the scripts kept before ADR 38 ({@code state:RUNNING}): no longer
   * written, trimmed until the jobs it names are gone.
   */
  public static final String FORMER_RUNNING_INDEX = Name.STATE.relative(JobState.RUNNING.name());

  /** The jobs of one pool that are QUEUED and not yet claimed, scored by when they were queued. */
  public static String queuedIndex(String pool) {
    return Name.QUEUED.relative(pool);
  }

  /** The jobs of one pool put back into the outbox after waiting QUEUED too long. */
  public static String requeuedIndex(String pool) {
    return Name.REQUEUED.relative(pool);
  }

  /**
   * The Lua that names a partition's keys, in front of every script: {@code base} is {@code
   * KEYS[1]}, {@code partitionKey(name)} is {@link #of} and each {@link Name} is one helper.
   */
  static String luaHelpers() {
    StringBuilder lua =
        new StringBuilder(
            """
            -- The partition's key names, rendered from dev.shepherd.store.Keys: the only place a
            -- script gets a key name from. KEYS[1] is the partition's key base, e.g.
            -- "shepherd:{p07}:"; every key starts with it, so all share its hash tag and slot.
            local base = KEYS[1]
            local function partitionKey(name) return base .. name end
            """);
    for (Name name : Name.values()) {
      lua.append(name.luaHelper()).append('\n');
    }
    return lua.toString();
  }

  /** The installation-wide key a write probe sets. */
  public String probe() {
    return settings.prefix() + ":probe";
  }

  /** The installation-wide hash of the job types workers announce (ADR 35). */
  public String types() {
    return settings.prefix() + ":types";
  }

  /**
   * The installation-wide set of every worker pool ever announced (ADR 35) or submitted to (ADR
   * 51): the pools whose {@link #queuedIndex} lists the QUEUED jobs.
   */
  public String pools() {
    return settings.prefix() + ":pools";
  }

  /** The installation-wide hash of registered workers. */
  public String workers() {
    return settings.prefix() + ":workers";
  }
}
