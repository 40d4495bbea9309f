package dev.shepherd.testsupport;

import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Redis with Sentinel, of a test's own: one master, {@code replicas} replicas and three sentinels
 * (quorum two) that judge the master down after {@link #DOWN_AFTER} and promote a replica. Every
 * process is a {@link PrivateRedis} on private ports.
 */
public final class PrivateRedisSentinels implements AutoCloseable {

  /** The name the sentinels know the master by ({@code spring.data.redis.sentinel.master}). */
  public static final String MASTER_NAME = "shepherd";

  /** How long the master may be silent before the sentinels start a failover. */
  public static final Duration DOWN_AFTER = Duration.ofSeconds(1);

  private final List<PrivateRedis> data = new ArrayList<>();
  private final List<PrivateRedis> sentinels = new ArrayList<>();

  private PrivateRedisSentinels() {}

  /** One master, two replicas, three sentinels; returns once all sentinels see both replicas. */
  public static PrivateRedisSentinels launch() {
    var set = new PrivateRedisSentinels();
    try {
      PrivateRedis master = PrivateRedis.launch();
      set.data.add(master);
      for (int i = 0; i < 2; i++) {
        set.data.add(PrivateRedis.launchReplicaOf(master));
      }
      for (int i = 0; i < 3; i++) {
        set.sentinels.add(PrivateRedis.launchSentinel(MASTER_NAME, master, 2, DOWN_AFTER));
      }
      await()
          .atMost(Duration.ofSeconds(30))
          .pollInterval(Duration.ofMillis(100))
          .ignoreExceptions()
          .until(
              () ->
                  set.sentinels.stream()
                      .allMatch(
                          s -> {
                            String info = s.command("INFO", "sentinel");
                            return info.contains("slaves=2") && info.contains("sentinels=3");
                          }));
      return set;
    } catch (RuntimeException e) {
      set.close();
      throw e;
    }
  }

  /** {@code host:port} of every sentinel ({@code spring.data.redis.sentinel.nodes}). */
  public List<String> sentinelAddresses() {
    return sentinels.stream().map(PrivateRedis::address).toList();
  }

  /** The master, as the first sentinel that answers says. */
  public PrivateRedis master() {
    int port = masterPort();
    return data.stream()
        .filter(n -> n.port() == port)
        .findFirst()
        .orElseThrow(() -> new IllegalStateException("the sentinels name port " + port));
  }

  /**
   * Waits until every sentinel names a master other than {@code old} and that master says it is
   * one: after a kill, until a replica was promoted.
   */
  public PrivateRedis awaitFailoverFrom(PrivateRedis old, Duration atMost) {
    await()
        .atMost(atMost)
        .pollInterval(Duration.ofMillis(100))
        .ignoreExceptions()
        .until(
            () -> {
              for (PrivateRedis s : sentinels) {
                if (portNamedBy(s) == old.port()) {
                  return false;
                }
              }
              return master().command("INFO", "replication").contains("role:master");
            });
    return master();
  }

  private int masterPort() {
    for (PrivateRedis s : sentinels) {
      try {
        return portNamedBy(s);
      } catch (RuntimeException e) {
        // ask the next one
      }
    }
    throw new IllegalStateException("no sentinel answers");
  }

  /** {@code SENTINEL GET-MASTER-ADDR-BY-NAME}'s port, read from the sentinel's INFO line. */
  private static int portNamedBy(PrivateRedis sentinel) {
    // master0:name=shepherd,status=ok,address=127.0.0.1:6380,slaves=2,sentinels=3
    for (String line : sentinel.command("INFO", "sentinel").split("\\r?\\n")) {
      int at = line.indexOf("address=");
      if (line.contains("name=" + MASTER_NAME) && at >= 0) {
        String address = line.substring(at + "address=".length(), line.indexOf(',', at));
        return Integer.parseInt(address.substring(address.lastIndexOf(':') + 1));
      }
    }
    throw new IllegalStateException(sentinel.address() + " does not know " + MASTER_NAME);
  }

  @Override
  public void close() {
    sentinels.forEach(PrivateRedis::close);
    data.forEach(PrivateRedis::close);
  }
}
