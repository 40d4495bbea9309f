package dev.shepherd.scheduler.console;

import java.time.Duration;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import java.util.List;

/**
 * A filter of the jobs page; null fields filter nothing. All of it goes to the API's paging ({@code
 * JobsController.paged}, over the store's time-ordered indexes): the pool is the one stored on the
 * job, the time range its submission; a fixed window ({@code within}) and a range ({@code from},
 * {@code to}) combine, the later start winning.
 *
 * @param within only jobs submitted at most this long ago
 * @param from only jobs submitted at or after this
 * @param to only jobs submitted at or before this
 * @param size rows a page shows ({@link #PAGE} unless asked otherwise)
 */
public record JobFilter(
    String state,
    String type,
    String key,
    String pool,
    Duration within,
    Instant from,
    Instant to,
    int size) {

  /** Rows of a page, unless the link asks for another number. */
  public static final int PAGE = 50;

  /** The most rows one page shows. */
  public static final int MAX_PAGE = 200;

  public JobFilter {
    if (size < 1 || size > MAX_PAGE) {
      throw new IllegalArgumentException("size: a page shows 1 to " + MAX_PAGE + " jobs");
    }
  }

  /** A filter of pages of {@link #PAGE} rows, without a time range. */
  public JobFilter(String state, String type, String key, String pool, Duration within) {
    this(state, type, key, pool, within, null, null, PAGE);
  }

  /** The windows the page offers. */
  public static final List<Duration> WINDOWS =
      List.of(Duration.ofMinutes(15), Duration.ofHours(1), Duration.ofHours(24));

  /** The earliest submission time the filter lets through at {@code now}; null for any. */
  public Instant since(Instant now) {
    Instant windowStart = within == null ? null : now.minus(within);
    if (windowStart == null) {
      return from;
    }
    return from == null || windowStart.isAfter(from) ? windowStart : from;
  }

  /** Whether a submission time passes the filter's time range at {@code now}. */
  public boolean accepts(Instant submittedAt, Instant now) {
    Instant since = since(now);
    if (submittedAt == null) {
      return since == null && to == null;
    }
    return (since == null || !submittedAt.isBefore(since))
        && (to == null || !submittedAt.isAfter(to));
  }

  /**
   * A time as the page's fields take it: an ISO-8601 instant ({@code 2026-12-01T20:00:00Z}) or a
   * date and time in UTC without a zone ({@code 2026-12-01T20:00}); null for blank.
   *
   * @throws DateTimeParseException for anything else
   */
  public static Instant parseTime(String text) {
    if (text == null || text.isBlank()) {
      return null;
    }
    String t = text.trim();
    try {
      return Instant.parse(t);
    } catch (DateTimeParseException e) {
      return LocalDateTime.parse(t).toInstant(ZoneOffset.UTC);
    }
  }

  /** The filter as query parameters, each led by {@code &}, for the page links. */
  String query() {
    StringBuilder q = new StringBuilder();
    append(q, "state", state);
    append(q, "type", type);
    append(q, "key", key);
    append(q, "pool", pool);
    append(q, "within", within == null ? null : within.toString());
    append(q, "from", from == null ? null : from.toString());
    append(q, "to", to == null ? null : to.toString());
    append(q, "size", size == PAGE ? null : Integer.toString(size));
    return q.toString();
  }

  private static void append(StringBuilder q, String name, String value) {
    if (value != null && !value.isBlank()) {
      q.append('&').append(name).append('=').append(Html.url(value));
    }
  }
}
