package dev.shepherd.store;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/** Reads the newest members of one index across every partition, newest first. */
final class NewestMembers {

  /** A member of an index in one partition, with its score (a time in epoch millis). */
  record Member(int partition, String id, double score) {}

  private NewestMembers() {}

  /** Up to {@code limit} members of {@code index} (a name relative to the partition base). */
  static List<Member> of(StoreContext store, String index, int limit) {
    List<Member> all = new ArrayList<>();
    for (int p = 0; p < store.keys().partitions(); p++) {
      var tuples =
          store
              .redis()
              .opsForZSet()
              .reverseRangeWithScores(store.keys().of(p, index), 0, limit - 1);
      if (tuples != null) {
        for (var t : tuples) {
          all.add(new Member(p, t.getValue(), t.getScore() == null ? 0 : t.getScore()));
        }
      }
    }
    all.sort(Comparator.comparingDouble(Member::score).reversed());
    return all.size() > limit ? all.subList(0, limit) : all;
  }
}
