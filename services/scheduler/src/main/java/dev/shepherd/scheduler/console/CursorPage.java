package dev.shepherd.scheduler.console;

import java.util.List;
import java.util.function.Function;

/**
 * One page of a listing, newest first, after a cursor: the id of the last row of the page before.
 * The next cursor is the id of this page's last row, or null when no row follows.
 *
 * @param rows this page's rows
 * @param next the cursor of the next page; null on the last page
 */
public record CursorPage<T>(List<T> rows, String next) {

  public CursorPage {
    rows = List.copyOf(rows);
  }

  /**
   * The page of {@code size} rows that follows the row {@code after} (null or blank for the first
   * page) in {@code all}. A cursor no longer in {@code all} (the job expired meanwhile) starts at
   * the beginning rather than showing nothing.
   */
  public static <T> CursorPage<T> after(
      List<T> all, Function<T, String> id, String after, int size) {
    int from = 0;
    if (after != null && !after.isBlank()) {
      for (int i = 0; i < all.size(); i++) {
        if (after.equals(id.apply(all.get(i)))) {
          from = i + 1;
          break;
        }
      }
    }
    int to = Math.min(all.size(), from + size);
    List<T> rows = all.subList(from, to);
    String next = to < all.size() && !rows.isEmpty() ? id.apply(rows.getLast()) : null;
    return new CursorPage<>(rows, next);
  }
}
