package dev.shepherd.model;

import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.UUID;
import java.util.zip.CRC32;

/**
 * Job ids carry the Redis partition they live in ({@code 07-3f2a...}), so every script that touches
 * a job finds its keys in one hash slot without a lookup. With an idempotency key the partition is
 * derived from the key, so a duplicate lands where the first submission did.
 */
public final class JobIds {

  private JobIds() {}

  private static final HexFormat HEX = HexFormat.of();

  /** A new id in {@code partition} (0 to 99): two digits, a dash, a random UUID's 32 hex digits. */
  public static String newId(int partition) {
    if (partition < 0 || partition > 99) {
      throw new IllegalArgumentException("a partition is 0 to 99, not " + partition);
    }
    UUID uuid = UUID.randomUUID();
    return (partition < 10 ? "0" : "")
        + partition
        + '-'
        + HEX.toHexDigits(uuid.getMostSignificantBits())
        + HEX.toHexDigits(uuid.getLeastSignificantBits());
  }

  public static int partitionForKey(String key, int partitions) {
    var crc = new CRC32();
    crc.update(key.getBytes(StandardCharsets.UTF_8));
    return (int) (crc.getValue() % partitions);
  }

  /** The partition an id names, or -1 when the id is not a Shepherd job id. */
  public static int partitionOf(String id, int partitions) {
    if (id == null || id.length() < 4 || id.charAt(2) != '-') {
      return -1;
    }
    try {
      int partition = Integer.parseInt(id.substring(0, 2));
      return partition < partitions ? partition : -1;
    } catch (NumberFormatException e) {
      return -1;
    }
  }
}
