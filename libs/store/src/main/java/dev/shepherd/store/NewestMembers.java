package dev.shepherd.store;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/** Reads the newest members of indexes across every partition, newest first. */
final class NewestMembers {

  /**
   * A member of an index ({@code key}, the full key name) in one partition, with its score (a time
   * in epoch millis).
   */
  record Member(int partition, String key, String id, double score) {}

  private NewestMembers() {}

  /**
   * Up to {@code limit} members of {@code indexes} (names relative to the partition base), merged.
   */
  static List<Member> of(StoreContext store, List<String> indexes, int limit) {
    List<Member> all = new ArrayList<>();
    for (int p = 0; p < store.keys().partitions(); p++) {
      for (String index : indexes) {
        String key = store.keys().of(p, index);
        var tuples = store.redis().opsForZSet().reverseRangeWithScores(key, 0, limit - 1);
        if (tuples != null) {
          for (var t : tuples) {
            all.add(new Member(p, key, t.getValue(), t.getScore() == null ? 0 : t.getScore()));
          }
        }
      }
    }
    all.sort(Comparator.comparingDouble(Member::score).reversed());
    return all.size() > limit ? all.subList(0, limit) : all;
  }
}
