package dev.shepherd.store;

import dev.shepherd.model.JobState;
import dev.shepherd.model.JobSummary;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import org.springframework.dao.DataAccessException;
import org.springframework.data.redis.core.RedisOperations;
import org.springframework.data.redis.core.SessionCallback;
import org.springframework.data.redis.core.ZSetOperations;

/**
 * Pages through the jobs by a cursor over the partitions' time-ordered indexes, newest first, so a
 * page costs the same with a thousand jobs or a million: each partition is read from the cursor on
 * ({@code ZREVRANGEBYSCORE ... LIMIT}), the partitions are merged, and only the rows shown (or, for
 * a filter no index answers, a bounded window of rows) have their job read.
 *
 * <p>Which index is walked, and so what the time of a row and of the cursor is:
 *
 * <ul>
 *   <li>no state: every job ({@code jobs}), by submission; the range {@code from..to} is
 *       index-backed.
 *   <li>a state: that state's index, by when the job entered it (RUNNING: its lease deadline);
 *       QUEUED: the pools' {@code queued:<pool>} indexes (every known pool's, or the asked pool's
 *       alone), by when the job began to wait (ADR 51). {@code from} bounds the index (a job enters
 *       a state after it is submitted); {@code to} is checked on the job's submission time.
 * </ul>
 *
 * A type, a pool (other than QUEUED's), a caller's visibility and a time range under a state are
 * checked on each job read: such a page reads at most {@link #SCAN_WINDOW} jobs and, when they held
 * fewer matches than a page, ends early with a cursor after the last job it read.
 */
final class JobPages {

  /** The most jobs one page reads when a filter is not answered by the index walked. */
  static final int SCAN_WINDOW = 1_000;

  private static final List<String> FIELDS =
      List.of("type", "state", "attempt", "submittedAt", "tenant", "pool");

  /** A member of {@code key}, an index of {@code partition} ({@code null} key: a cursor's). */
  private record Member(int partition, String key, String id, long score) {}

  private static final Comparator<Member> NEWEST_FIRST =
      Comparator.comparingLong(Member::score).thenComparing(Member::id).reversed();

  private final StoreContext store;

  JobPages(StoreContext store) {
    this.store = store;
  }

  JobQueries.JobPage page(JobQueries.JobPageRequest q, JobQueries.Visible visible) {
    // the indexes walked in every partition, merged: one, but for QUEUED with no pool asked,
    // which are the pools' (ADR 51)
    List<String> indexes;
    boolean poolOnIndex = false;
    if (q.state() == null) {
      indexes = List.of(Keys.JOBS);
    } else if (q.state() == JobState.QUEUED && q.pool() != null) {
      indexes = List.of(Keys.queuedIndex(q.pool()));
      poolOnIndex = true;
    } else {
      indexes = JobQueries.stateIndexes(store, q.state());
    }
    boolean toOnIndex = q.state() == null;
    boolean scanned =
        q.type() != null
            || visible != null
            || (q.pool() != null && !poolOnIndex)
            || (q.to() != null && !toOnIndex)
            || (q.from() != null && !toOnIndex);
    List<String> keys = new ArrayList<>();
    List<Integer> partitionOfKey = new ArrayList<>();
    for (int p = 0; p < store.keys().partitions(); p++) {
      for (String index : indexes) {
        keys.add(store.keys().of(p, index));
        partitionOfKey.add(p);
      }
    }
    int perKey = scanned ? SCAN_WINDOW / Math.max(1, keys.size()) + 1 : q.limit() + 1;
    Optional<Member> after = decode(q.after());
    double max =
        after
            .map(m -> (double) m.score())
            .orElse(
                toOnIndex && q.to() != null
                    ? (double) q.to().toEpochMilli()
                    : Double.POSITIVE_INFINITY);
    double min = q.from() == null ? Double.NEGATIVE_INFINITY : q.from().toEpochMilli();

    List<Member> merged = new ArrayList<>();
    Member floor = null;
    for (int k = 0; k < keys.size(); k++) {
      String key = keys.get(k);
      int p = partitionOfKey.get(k);
      List<Member> mine = new ArrayList<>();
      double below = max;
      if (after.isPresent()) {
        // rows of the cursor's own millisecond come after it by id (the order of ties)
        for (Member m : range(p, key, max, max, 0, -1)) {
          if (m.id().compareTo(after.get().id()) < 0) {
            mine.add(m);
          }
        }
        below = Math.nextDown(max);
      }
      List<Member> rest = range(p, key, below, min, 0, perKey);
      mine.addAll(rest);
      merged.addAll(mine);
      if (rest.size() == perKey) {
        // this index has more past its last member: the merge holds only down to it
        Member last = rest.getLast();
        if (floor == null || NEWEST_FIRST.compare(last, floor) < 0) {
          floor = last;
        }
      }
    }
    merged.sort(NEWEST_FIRST);
    if (floor != null) {
      int end = 0;
      while (end < merged.size() && NEWEST_FIRST.compare(merged.get(end), floor) <= 0) {
        end++;
      }
      merged = merged.subList(0, end);
    }
    boolean morePast = floor != null;

    List<JobSummary> rows = new ArrayList<>();
    int read = 0;
    Member lastRead = null;
    int budget = scanned ? SCAN_WINDOW : Integer.MAX_VALUE;
    while (read < merged.size() && rows.size() < q.limit() && read < budget) {
      int chunk = Math.min(merged.size() - read, scanned ? 200 : q.limit() - rows.size() + 1);
      chunk = Math.min(chunk, budget - read);
      List<Member> batch = merged.subList(read, read + chunk);
      List<Object> jobs = read(batch);
      for (int i = 0; i < batch.size() && rows.size() < q.limit(); i++) {
        Member m = batch.get(i);
        read++;
        lastRead = m;
        @SuppressWarnings("unchecked")
        List<Object> f = (List<Object>) jobs.get(i);
        if (f.get(0) == null) {
          // expired by retention
          store.redis().opsForZSet().remove(m.key(), m.id());
          continue;
        }
        String type = (String) f.get(0);
        String tenant = f.get(4) == null ? "" : (String) f.get(4);
        Instant submittedAt = Replies.millis((String) f.get(3));
        if ((q.type() != null && !q.type().equals(type))
            || (q.pool() != null && !q.pool().equals(f.get(5)))
            || (q.to() != null && submittedAt != null && submittedAt.isAfter(q.to()))
            || (q.from() != null && submittedAt != null && submittedAt.isBefore(q.from()))
            || (visible != null && !visible.test(type, tenant))) {
          continue;
        }
        rows.add(
            new JobSummary(
                m.id(),
                type,
                JobState.valueOf((String) f.get(1)),
                Integer.parseInt((String) f.get(2)),
                submittedAt));
      }
    }
    boolean more = read < merged.size() || morePast;
    String next = more && lastRead != null ? encode(lastRead) : null;
    boolean windowEnded = scanned && rows.size() < q.limit() && next != null;
    return new JobQueries.JobPage(rows, next, read, windowEnded);
  }

  private List<Member> range(int partition, String key, double max, double min, long off, long n) {
    var tuples =
        n < 0
            ? store.redis().opsForZSet().reverseRangeByScoreWithScores(key, min, max)
            : store.redis().opsForZSet().reverseRangeByScoreWithScores(key, min, max, off, n);
    List<Member> out = new ArrayList<>();
    if (tuples != null) {
      for (ZSetOperations.TypedTuple<String> t : tuples) {
        out.add(
            new Member(
                partition, key, t.getValue(), t.getScore() == null ? 0 : t.getScore().longValue()));
      }
    }
    return out;
  }

  /** The fields of each member's job, in one round trip. */
  private List<Object> read(List<Member> batch) {
    return store
        .redis()
        .executePipelined(
            new SessionCallback<Object>() {
              @Override
              @SuppressWarnings("unchecked")
              public <K, V> Object execute(RedisOperations<K, V> operations)
                  throws DataAccessException {
                var ops = (RedisOperations<String, String>) operations;
                for (Member m : batch) {
                  ops.<String, String>opsForHash()
                      .multiGet(store.keys().job(m.partition(), m.id()), FIELDS);
                }
                return null;
              }
            });
  }

  /** A cursor: the last row's index score and id, {@code <millis>:<id>}. */
  static String encode(Member m) {
    return m.score() + ":" + m.id();
  }

  private static Optional<Member> decode(String cursor) {
    if (cursor == null || cursor.isBlank()) {
      return Optional.empty();
    }
    int colon = cursor.indexOf(':');
    if (colon < 1) {
      throw new IllegalArgumentException("cursor: not <millis>:<id>");
    }
    try {
      return Optional.of(
          new Member(
              -1, null, cursor.substring(colon + 1), Long.parseLong(cursor.substring(0, colon))));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("cursor: not <millis>:<id>");
    }
  }
}
