package dev.shepherd.store;

import dev.shepherd.model.JobState;
import dev.shepherd.model.JobSummary;
import dev.shepherd.model.JobView;
import dev.shepherd.model.OrderingKeyView;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.IntFunction;
import tools.jackson.databind.JsonNode;

/**
 * Reads that change nothing: a job's whole record, listings, and the counts the gauges and health
 * checks show. Counts are summed over every partition.
 */
public final class JobQueries {

  /** Jobs waiting in one pool (QUEUED, not yet claimed) and when the oldest began to wait. */
  public record PoolBacklog(long depth, Instant oldestQueuedAt) {}

  private final StoreContext store;

  JobQueries(StoreContext store) {
    this.store = store;
  }

  /** A job's whole record: state, attempts, phases and history. */
  public Optional<JobView> find(String jobId) {
    int partition = store.keys().partitionOf(jobId);
    if (partition < 0) {
      return Optional.empty();
    }
    JsonNode reply = store.run(Script.VIEW, partition, jobId);
    return reply.get("found").asBoolean()
        ? Optional.of(Replies.jobView(jobId, reply))
        : Optional.empty();
  }

  /** Whose a job is: its type and its tenant (empty for none, ADR 40). */
  public record Owner(String type, String tenant) {}

  /**
   * A job's current attempt as the last claim left it: its state, attempt number, the claim's
   * fencing token (0 before any claim) and the worker that claimed it (null before any claim).
   */
  public record CurrentAttempt(JobState state, int attempt, long fencingToken, String workerId) {}

  /** A job's current attempt, in one read; empty for no such job. */
  public Optional<CurrentAttempt> currentAttempt(String jobId) {
    int partition = store.keys().partitionOf(jobId);
    if (partition < 0) {
      return Optional.empty();
    }
    List<Object> fields =
        store
            .redis()
            .opsForHash()
            .multiGet(
                store.keys().job(partition, jobId), List.of("state", "attempt", "token", "worker"));
    if (fields.get(0) == null) {
      return Optional.empty();
    }
    return Optional.of(
        new CurrentAttempt(
            JobState.valueOf((String) fields.get(0)),
            fields.get(1) == null ? 0 : Integer.parseInt((String) fields.get(1)),
            fields.get(2) == null ? 0 : Long.parseLong((String) fields.get(2)),
            (String) fields.get(3)));
  }

  /** A job's type and tenant, without the rest of it; empty for no such job. */
  public Optional<Owner> owner(String jobId) {
    int partition = store.keys().partitionOf(jobId);
    if (partition < 0) {
      return Optional.empty();
    }
    List<Object> fields =
        store
            .redis()
            .opsForHash()
            .multiGet(store.keys().job(partition, jobId), List.of("type", "tenant"));
    return fields.get(0) == null
        ? Optional.empty()
        : Optional.of(
            new Owner((String) fields.get(0), fields.get(1) == null ? "" : (String) fields.get(1)));
  }

  /** The id of the job an idempotency key made, if any. */
  public Optional<String> findIdByIdempotencyKey(String idempotencyKey) {
    return findIdByIdempotencyKey(idempotencyKey, null);
  }

  /**
   * The id of the job an idempotency key made with an ordering key (null for none), if any: a keyed
   * job's idempotency key lives with the job, in the ordering key's partition.
   */
  public Optional<String> findIdByIdempotencyKey(String idempotencyKey, String orderingKey) {
    return findIdByIdempotencyKey(idempotencyKey, orderingKey, "");
  }

  /**
   * The id of the job an idempotency key of {@code tenant}'s made (empty for none): each tenant has
   * its own key space (ADR 40).
   */
  public Optional<String> findIdByIdempotencyKey(
      String idempotencyKey, String orderingKey, String tenant) {
    return Optional.ofNullable(
        store
            .redis()
            .opsForValue()
            .get(store.keys().idempotencyKey(idempotencyKey, orderingKey, tenant)));
  }

  /** An ordering key's state, backlog and head (ADR 29); UP with no backlog for an unknown key. */
  public OrderingKeyView orderingKey(String key) {
    int partition = store.keys().partitionOfKey(key);
    var redis = store.redis();
    Object down = redis.opsForHash().get(store.keys().of(partition, Keys.KEYS_DOWN), key);
    String queue = store.keys().keyQueue(key);
    Long backlog = redis.opsForZSet().zCard(queue);
    var first = redis.opsForZSet().range(queue, 0, 0);
    String head = first == null || first.isEmpty() ? null : first.iterator().next();
    JobState headState = null;
    Integer headAttempt = null;
    Instant nextAttemptAt = null;
    if (head != null) {
      List<Object> job =
          redis
              .opsForHash()
              .multiGet(store.keys().job(partition, head), List.of("state", "attempt"));
      headState = job.get(0) == null ? null : JobState.valueOf((String) job.get(0));
      headAttempt = job.get(1) == null ? null : Integer.valueOf((String) job.get(1));
      Double due = redis.opsForZSet().score(store.keys().of(partition, Keys.DUE), head);
      if (headState == JobState.RETRY_WAIT && due != null) {
        nextAttemptAt = Instant.ofEpochMilli(due.longValue());
      }
    }
    return new OrderingKeyView(
        key,
        down == null ? "UP" : "DOWN",
        down == null ? null : Instant.ofEpochMilli(Long.parseLong((String) down)),
        headState == JobState.DEAD,
        backlog == null ? 0 : backlog,
        head,
        headState,
        headAttempt,
        nextAttemptAt);
  }

  /** When each ordering key that is DOWN went down, in every partition (one call per partition). */
  public List<Instant> orderingKeysDownSince() {
    List<Instant> since = new ArrayList<>();
    for (int partition = 0; partition < store.keys().partitions(); partition++) {
      for (String at :
          store
              .redis()
              .<String, String>opsForHash()
              .values(store.keys().of(partition, Keys.KEYS_DOWN))) {
        since.add(Instant.ofEpochMilli(Long.parseLong(at)));
      }
    }
    return since;
  }

  /** The ordering keys that are DOWN, in every partition, longest down first. */
  public List<OrderingKeyView> downOrderingKeys(int limit) {
    List<Map.Entry<String, Long>> down = new ArrayList<>();
    for (int partition = 0; partition < store.keys().partitions(); partition++) {
      store
          .redis()
          .<String, String>opsForHash()
          .entries(store.keys().of(partition, Keys.KEYS_DOWN))
          .forEach((key, since) -> down.add(Map.entry(key, Long.parseLong(since))));
    }
    return down.stream()
        .sorted(Map.Entry.comparingByValue())
        .limit(limit)
        .map(e -> orderingKey(e.getKey()))
        .toList();
  }

  /** The ids of an ordering key's unfinished jobs, the one that runs or runs next first. */
  public List<String> orderingKeyQueue(String orderingKey) {
    return List.copyOf(store.redis().opsForZSet().range(store.keys().keyQueue(orderingKey), 0, -1));
  }

  /** The newest jobs, optionally only those in one state and of one type. */
  public List<JobSummary> list(JobState state, String type, int limit) {
    return list(state, type, limit, null);
  }

  /** Which jobs a caller may see: by the job's type and tenant (empty for none). */
  @FunctionalInterface
  public interface Visible {
    boolean test(String type, String tenant);
  }

  /**
   * The newest jobs, optionally only those in one state and of one type, and only those {@code
   * visible} lets through (null for all): a caller's tenant and readable types (ADR 40).
   */
  public List<JobSummary> list(JobState state, String type, int limit, Visible visible) {
    List<String> indexes = state == null ? List.of(Keys.JOBS) : stateIndexes(store, state);
    List<JobSummary> out = new ArrayList<>();
    // Over-fetch when filtering: the index is per state, not per type or tenant.
    int fetch = type == null && visible == null ? limit : Math.min(limit * 10, 10_000);
    for (NewestMembers.Member m : NewestMembers.of(store, indexes, fetch)) {
      List<Object> fields =
          store
              .redis()
              .opsForHash()
              .multiGet(
                  store.keys().job(m.partition(), m.id()),
                  List.of("type", "state", "attempt", "submittedAt", "tenant"));
      if (fields.get(0) == null) {
        // expired by retention
        store.redis().opsForZSet().remove(m.key(), m.id());
        continue;
      }
      if (type != null && !type.equals(fields.get(0))) {
        continue;
      }
      if (visible != null
          && !visible.test(
              (String) fields.get(0), fields.get(4) == null ? "" : (String) fields.get(4))) {
        continue;
      }
      out.add(
          new JobSummary(
              m.id(),
              (String) fields.get(0),
              JobState.valueOf((String) fields.get(1)),
              Integer.parseInt((String) fields.get(2)),
              Replies.millis((String) fields.get(3))));
      if (out.size() == limit) {
        break;
      }
    }
    return out;
  }

  /**
   * What one page of jobs asks for; null fields filter nothing.
   *
   * @param pool the pool stored on the job (where it was dispatched), not its type's current one
   * @param from only jobs submitted at or after this
   * @param to only jobs submitted at or before this
   * @param after the cursor of the previous page ({@link JobPage#next()}); null for the first
   * @param limit rows of the page, 1 to 1,000
   */
  public record JobPageRequest(
      JobState state, String type, String pool, Instant from, Instant to, String after, int limit) {

    public JobPageRequest {
      if (limit < 1 || limit > 1_000) {
        throw new IllegalArgumentException("limit must be 1..1000, was " + limit);
      }
      type = type == null || type.isBlank() ? null : type;
      pool = pool == null || pool.isBlank() ? null : pool;
    }
  }

  /**
   * One page of jobs, newest first.
   *
   * @param next the cursor of the next page; null when no job follows
   * @param read the jobs read for it
   * @param windowEnded a filter no index answers read its window (at most 1,000 jobs) and found
   *     fewer matches than a page: more may follow, from {@code next}
   */
  public record JobPage(List<JobSummary> rows, String next, int read, boolean windowEnded) {}

  /**
   * A page of jobs by a cursor over the time-ordered indexes (see {@link JobPages}): the same cost
   * whatever the number of jobs. {@code visible} (null for all) is a caller's tenant and readable
   * types (ADR 40).
   *
   * @throws IllegalArgumentException for a cursor that is not one this method gave
   */
  public JobPage page(JobPageRequest request, Visible visible) {
    return new JobPages(store).page(request, visible);
  }

  /** How many jobs of one state the indexes hold, across partitions. */
  public long countInState(JobState state) {
    long count = 0;
    for (String index : stateIndexes(store, state)) {
      count += sizeAcross(p -> store.keys().of(p, index));
    }
    return count;
  }

  /**
   * The indexes of one state's jobs: for QUEUED, the {@code queued:<pool>} index of every pool ever
   * announced or submitted to (ADR 51).
   */
  static List<String> stateIndexes(StoreContext store, JobState state) {
    return Keys.stateIndexes(state, state == JobState.QUEUED ? knownPools(store) : Set.of());
  }

  /** Every pool a worker announced or a job was submitted to ({@link Keys#pools()}). */
  static Set<String> knownPools(StoreContext store) {
    return new JobTypeRegistry(store.redis(), store.settings(), store.clock()).pools();
  }

  /** How many leases are held, across partitions. */
  public long leasesHeld() {
    return sizeAcross(p -> store.keys().of(p, Keys.LEASES));
  }

  /** How many entries wait in the outbox (due or reserved), across partitions. */
  public long outboxSize() {
    return sizeAcross(p -> store.keys().of(p, Keys.DUE));
  }

  /**
   * Whether Redis takes a write now: sets an installation-wide probe key that expires by itself.
   * False while Redis is unreachable, loading, out of memory or read-only.
   */
  public boolean acceptsWrites() {
    try {
      store.redis().opsForValue().set(store.keys().probe(), "1", Duration.ofSeconds(10));
      return true;
    } catch (RuntimeException e) {
      return false;
    }
  }

  /**
   * How many jobs of {@code pool} are QUEUED, across partitions: {@link #backlog}'s depth alone.
   */
  public long queuedInPool(String pool) {
    return sizeAcross(p -> store.keys().of(p, Keys.queuedIndex(pool)));
  }

  public PoolBacklog backlog(String pool) {
    Double oldest = earliestAcross(p -> store.keys().of(p, Keys.queuedIndex(pool)));
    return new PoolBacklog(
        queuedInPool(pool), oldest == null ? null : Instant.ofEpochMilli(oldest.longValue()));
  }

  /** The due time of the earliest outbox entry, or null when the outbox is empty. */
  public Instant earliestDue() {
    Double earliest = earliestAcross(p -> store.keys().of(p, Keys.DUE));
    return earliest == null ? null : Instant.ofEpochMilli(earliest.longValue());
  }

  /**
   * The jobs that finished in one minute, by how they ended.
   *
   * @param start the minute's start (exclusive); it ends a minute later (inclusive)
   */
  public record FinishedMinute(Instant start, long succeeded, long dead, long cancelled) {

    public long finished() {
      return succeeded + dead + cancelled;
    }
  }

  /**
   * How many jobs finished in each of the last {@code minutes} minutes before now, the oldest
   * minute first, summed over every partition. A job redriven since is not counted, nor one trimmed
   * by the retention.
   */
  public List<FinishedMinute> finishedPerMinute(int minutes) {
    return summary(List.of(), List.of(), minutes).finishedPerMinute();
  }

  /**
   * A pool's queue: how many jobs wait in it and the one that has waited longest.
   *
   * @param oldest null when none waits
   */
  public record PoolQueue(long depth, QueuedJob oldest) {}

  /**
   * What the console's overview shows, summed over every partition.
   *
   * @param counts jobs per state, as {@link #countInState} counts them
   * @param pools each asked pool's queue, in the order asked
   * @param finishedPerMinute as {@link #finishedPerMinute}
   */
  public record Summary(
      Map<JobState, Long> counts,
      Map<String, PoolQueue> pools,
      List<FinishedMinute> finishedPerMinute) {}

  /**
   * Every state's count, {@code pools}' queues and the last {@code minutes} minutes' finished jobs,
   * in one script call per partition (each state, pool and minute would otherwise cost a round trip
   * of its own per partition, several hundred for one overview).
   */
  public Summary summary(Collection<String> pools, int minutes) {
    return summary(pools, List.of(JobState.values()), minutes);
  }

  private Summary summary(Collection<String> pools, List<JobState> states, int minutes) {
    if (minutes < 1 || minutes > 1440) {
      throw new IllegalArgumentException("minutes must be 1..1440, was " + minutes);
    }
    long now = store.clock().millis();
    List<JobState> terminal = List.of(JobState.SUCCEEDED, JobState.DEAD, JobState.CANCELLED);
    List<String> args = new ArrayList<>();
    args.add(Long.toString(now));
    args.add(Integer.toString(minutes));
    // every known pool's queue is read: the QUEUED count is their sum (ADR 51)
    Set<String> read = new LinkedHashSet<>(pools);
    read.addAll(knownPools(store));
    args.add(Integer.toString(read.size()));
    args.addAll(read);
    args.add(Integer.toString(states.size()));
    states.forEach(s -> args.add(s.name()));
    terminal.forEach(s -> args.add(s.name()));
    long[][] sums = new long[terminal.size()][minutes];
    Map<JobState, Long> counts = new EnumMap<>(JobState.class);
    states.forEach(s -> counts.put(s, 0L));
    Map<String, long[]> depths = new LinkedHashMap<>();
    Map<String, QueuedJob> oldest = new HashMap<>();
    pools.forEach(pool -> depths.put(pool, new long[1]));
    for (int p = 0; p < store.keys().partitions(); p++) {
      JsonNode reply = store.run(Script.SUMMARY, p, args);
      for (JobState s : states) {
        counts.merge(s, reply.path("counts").path(s.name()).asLong(), Long::sum);
      }
      for (String pool : pools) {
        JsonNode q = reply.path("pools").path(pool);
        depths.get(pool)[0] += q.path("depth").asLong();
        if (q.hasNonNull("oldest")) {
          QueuedJob first =
              new QueuedJob(
                  q.get("oldest").asString(),
                  Instant.ofEpochMilli((long) Double.parseDouble(q.get("at").asString())));
          oldest.merge(pool, first, (a, b) -> b.queuedAt().isBefore(a.queuedAt()) ? b : a);
        }
      }
      JsonNode finished = reply.path("finished");
      for (int s = 0; s < terminal.size(); s++) {
        JsonNode per = finished.get(terminal.get(s).name());
        for (int m = 0; m < minutes; m++) {
          sums[s][m] += per.get(m).asLong();
        }
      }
    }
    List<FinishedMinute> perMinute = new ArrayList<>(minutes);
    for (int m = 0; m < minutes; m++) {
      perMinute.add(
          new FinishedMinute(
              Instant.ofEpochMilli(now - (long) (minutes - m) * 60_000),
              sums[0][m],
              sums[1][m],
              sums[2][m]));
    }
    Map<String, PoolQueue> queues = new LinkedHashMap<>();
    depths.forEach((pool, d) -> queues.put(pool, new PoolQueue(d[0], oldest.get(pool))));
    return new Summary(counts, queues, perMinute);
  }

  /**
   * When a job waiting for a retry (RETRY_WAIT) is due to be published again: its outbox entry's
   * time. Empty for any other state, and for a retry waiting for a concurrency slot or its ordering
   * key's head (no entry).
   */
  public Optional<Instant> nextAttemptAt(String jobId) {
    int partition = store.keys().partitionOf(jobId);
    if (partition < 0) {
      return Optional.empty();
    }
    Object state = store.redis().opsForHash().get(store.keys().job(partition, jobId), "state");
    if (!JobState.RETRY_WAIT.name().equals(state)) {
      return Optional.empty();
    }
    Double due = store.redis().opsForZSet().score(store.keys().of(partition, Keys.DUE), jobId);
    return due == null ? Optional.empty() : Optional.of(Instant.ofEpochMilli(due.longValue()));
  }

  /** A job that waits in a pool's queue, and since when. */
  public record QueuedJob(String jobId, Instant queuedAt) {}

  /** The job of one pool that has waited QUEUED the longest, over every partition. */
  public Optional<QueuedJob> oldestQueued(String pool) {
    QueuedJob oldest = null;
    for (int p = 0; p < store.keys().partitions(); p++) {
      var first =
          store
              .redis()
              .opsForZSet()
              .rangeWithScores(store.keys().of(p, Keys.queuedIndex(pool)), 0, 0);
      if (first != null && !first.isEmpty()) {
        var t = first.iterator().next();
        Instant at = Instant.ofEpochMilli(t.getScore().longValue());
        if (oldest == null || at.isBefore(oldest.queuedAt())) {
          oldest = new QueuedJob(t.getValue(), at);
        }
      }
    }
    return Optional.ofNullable(oldest);
  }

  /** The sum of the sizes of one sorted set in every partition. */
  private long sizeAcross(IntFunction<String> key) {
    long total = 0;
    for (int p = 0; p < store.keys().partitions(); p++) {
      Long n = store.redis().opsForZSet().zCard(key.apply(p));
      total += n == null ? 0 : n;
    }
    return total;
  }

  /** The lowest score of one sorted set over every partition; null when all are empty. */
  private Double earliestAcross(IntFunction<String> key) {
    Double earliest = null;
    for (int p = 0; p < store.keys().partitions(); p++) {
      var first = store.redis().opsForZSet().rangeWithScores(key.apply(p), 0, 0);
      if (first != null && !first.isEmpty()) {
        double score = first.iterator().next().getScore();
        earliest = earliest == null ? score : Math.min(earliest, score);
      }
    }
    return earliest;
  }

  /**
   * Marks the job as awaited, so that its end is published on its partition's {@link
   * #finishedChannels() finished channel}, and reads its state: a job finished already is not
   * marked. Empty when there is no such job.
   */
  public Optional<JobState> await(String jobId) {
    int partition = store.keys().partitionOf(jobId);
    if (partition < 0) {
      return Optional.empty();
    }
    JsonNode reply = store.run(Script.AWAIT, partition, jobId);
    return "FOUND".equals(reply.get("outcome").asString())
        ? Optional.of(JobState.valueOf(reply.get("state").asString()))
        : Optional.empty();
  }

  /** Every partition's channel of awaited jobs that finished (their ids). */
  public List<String> finishedChannels() {
    List<String> channels = new ArrayList<>();
    for (int partition = 0; partition < store.keys().partitions(); partition++) {
      channels.add(store.keys().finishedChannel(partition));
    }
    return channels;
  }
}
