package dev.shepherd.scheduler.console;

import dev.shepherd.model.JobSummary;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.function.Function;

/**
 * A filter of the jobs page; null fields filter nothing. State and type are passed to the API's
 * listing; the pool (the pool the job's type is dispatched to) and the submission window are
 * applied here, to the rows the listing returned.
 *
 * @param within only jobs submitted at most this long ago
 * @param size rows a page shows ({@link #PAGE} unless asked otherwise)
 */
public record JobFilter(
    String state, String type, String key, String pool, Duration within, int size) {

  /** Rows of a page, unless the link asks for another number. */
  public static final int PAGE = 50;

  /** The most rows one page shows. */
  public static final int MAX_PAGE = 200;

  public JobFilter {
    if (size < 1 || size > MAX_PAGE) {
      throw new IllegalArgumentException("size: a page shows 1 to " + MAX_PAGE + " jobs");
    }
  }

  /** A filter of pages of {@link #PAGE} rows. */
  public JobFilter(String state, String type, String key, String pool, Duration within) {
    this(state, type, key, pool, within, PAGE);
  }

  /** The windows the page offers. */
  public static final List<Duration> WINDOWS =
      List.of(Duration.ofMinutes(15), Duration.ofHours(1), Duration.ofHours(24));

  /** Whether the row passes the pool and window parts of the filter. */
  public boolean accepts(JobSummary job, Function<String, String> poolOfType, Instant now) {
    if (pool != null && !pool.equals(poolOfType.apply(job.type()))) {
      return false;
    }
    return within == null
        || (job.submittedAt() != null && !job.submittedAt().isBefore(now.minus(within)));
  }

  /** The filter as query parameters, each led by {@code &}, for the page links. */
  String query() {
    StringBuilder q = new StringBuilder();
    append(q, "state", state);
    append(q, "type", type);
    append(q, "key", key);
    append(q, "pool", pool);
    append(q, "within", within == null ? null : within.toString());
    append(q, "size", size == PAGE ? null : Integer.toString(size));
    return q.toString();
  }

  private static void append(StringBuilder q, String name, String value) {
    if (value != null && !value.isBlank()) {
      q.append('&').append(name).append('=').append(Html.url(value));
    }
  }
}
