package dev.shepherd.testsupport;

import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * A Redis Cluster of a test's own: {@code masters} masters with {@code replicasPerMaster} replicas
 * each, every node a {@link PrivateRedis} (AOF on, private port and directory) with {@code
 * cluster-enabled yes} and a node timeout of {@link #NODE_TIMEOUT}, so a SIGKILLed master's replica
 * is promoted within a few seconds. The slots are assigned by {@code redis-cli --cluster create}
 * ({@code $SHEPHERD_REDIS_CLI}, else {@code redis-cli} on the PATH), as an operator would.
 */
public final class PrivateRedisCluster implements AutoCloseable {

  /** How long a master may be silent before its replica takes over. */
  public static final Duration NODE_TIMEOUT = Duration.ofSeconds(2);

  private final List<PrivateRedis> nodes = new ArrayList<>();

  private PrivateRedisCluster() {}

  /** Three masters with one replica each. */
  public static PrivateRedisCluster launch() {
    return launch(3, 1);
  }

  /**
   * Starts the nodes, joins them into one cluster and returns once every slot is served and every
   * replica replicates.
   */
  public static PrivateRedisCluster launch(int masters, int replicasPerMaster) {
    var cluster = new PrivateRedisCluster();
    try {
      for (int i = 0; i < masters * (1 + replicasPerMaster); i++) {
        cluster.nodes.add(
            PrivateRedis.launch(
                null,
                List.of(
                    "--cluster-enabled",
                    "yes",
                    "--cluster-config-file",
                    "nodes.conf",
                    // the bus's own free port: by default it is the port plus 10000, which
                    // another process may hold
                    "--cluster-port",
                    Integer.toString(ManagedProcess.freePort()),
                    "--cluster-node-timeout",
                    Long.toString(NODE_TIMEOUT.toMillis()),
                    // a replica takes over however long it was cut off from its master (a test
                    // freezes it so that it misses the master's last writes)
                    "--cluster-replica-validity-factor",
                    "0")));
      }
      List<String> create = new ArrayList<>(List.of(redisCli(), "--cluster", "create"));
      cluster.nodes.forEach(n -> create.add(n.address()));
      create.addAll(
          List.of("--cluster-replicas", Integer.toString(replicasPerMaster), "--cluster-yes"));
      run(create, cluster.nodes.getFirst().directory().resolve("cluster-create.log"));
      cluster.awaitHealthy(Duration.ofSeconds(30));
      // and every replica's link to its master up: until then a WAIT counts no replica
      await()
          .atMost(Duration.ofSeconds(30))
          .pollInterval(Duration.ofMillis(50))
          .until(
              () ->
                  cluster.nodes.stream()
                          .filter(n -> role(n).equals("replica"))
                          .filter(
                              n ->
                                  n.command("INFO", "replication")
                                      .contains("master_link_status:up"))
                          .count()
                      == (long) masters * replicasPerMaster);
      return cluster;
    } catch (RuntimeException e) {
      cluster.close();
      throw e;
    }
  }

  /** Every node, masters and replicas, in the order they were started. */
  public List<PrivateRedis> nodes() {
    return List.copyOf(nodes);
  }

  /** {@code host:port} of every node: the seeds a client is given. */
  public List<String> addresses() {
    return nodes.stream().map(PrivateRedis::address).toList();
  }

  /** The node that serves {@code key}'s slot now (the master), as the cluster itself says. */
  public PrivateRedis masterOf(String key) {
    PrivateRedis asked = live().getFirst();
    long slot = Long.parseLong(asked.command("CLUSTER", "KEYSLOT", key).substring(1));
    for (String line : asked.command("CLUSTER", "NODES").split("\n")) {
      // <id> <ip:port@cport> <flags> <master> <ping> <pong> <epoch> <link> <slot> <slot> ...
      String[] f = line.trim().split(" ");
      if (f.length < 9 || !f[2].contains("master") || f[2].contains("fail")) {
        continue;
      }
      for (int i = 8; i < f.length; i++) {
        String[] range = f[i].split("-");
        long from = Long.parseLong(range[0]);
        long to = range.length == 1 ? from : Long.parseLong(range[1]);
        if (slot >= from && slot <= to) {
          int port = Integer.parseInt(f[1].substring(f[1].indexOf(':') + 1, f[1].indexOf('@')));
          return nodes.stream()
              .filter(n -> n.port() == port)
              .findFirst()
              .orElseThrow(() -> new IllegalStateException("slot " + slot + " on " + f[1]));
        }
      }
    }
    throw new IllegalStateException("no master serves slot " + slot);
  }

  /** The replica of {@code master} that runs. */
  public PrivateRedis replicaOf(PrivateRedis master) {
    return live().stream()
        .filter(n -> role(n).equals("replica"))
        .filter(n -> n.command("INFO", "replication").contains("master_port:" + master.port()))
        .findFirst()
        .orElseThrow(() -> new IllegalStateException("no replica of " + master.address()));
  }

  /**
   * Waits until {@code replica} has everything its master wrote so far (their replication offsets
   * are equal).
   */
  public void awaitReplicated(PrivateRedis master, PrivateRedis replica) {
    await()
        .atMost(Duration.ofSeconds(10))
        .pollInterval(Duration.ofMillis(20))
        .until(() -> offset(master, "master_repl_offset") == offset(replica, "slave_repl_offset"));
  }

  /**
   * Cuts {@code replica} off its master so that nothing the master writes from now on reaches it:
   * freezes it (SIGSTOP), then has the master close its replication link. (Frozen alone, it would
   * still find the master's writes in its socket buffer when thawed.) Kill the master next and thaw
   * the replica: it is promoted without those writes, as a replica that lagged would be.
   */
  public void cutOff(PrivateRedis master, PrivateRedis replica) {
    replica.freeze();
    String killed = master.command("CLIENT", "KILL", "TYPE", "replica");
    if (!":1".equals(killed)) {
      throw new IllegalStateException(
          "the master at " + master.address() + " closed " + killed + " replica links, not one");
    }
  }

  /**
   * {@code master} refuses every write with {@code -OOM} until {@code acceptWrites}: what a full
   * Redis does to its clients ({@link PrivateRedis#refuseWrites()}, probed with a key of one of its
   * own slots, since another key is answered {@code MOVED} first).
   */
  public void refuseWrites(PrivateRedis master) {
    master.command("CONFIG", "SET", "maxmemory-policy", "noeviction");
    master.command("CONFIG", "SET", "maxmemory", "1");
    String key = keyServedBy(master);
    String reply = master.command("SET", key, "1");
    if (reply == null || !reply.startsWith("-OOM")) {
      throw new IllegalStateException(master.address() + " still takes writes: " + reply);
    }
  }

  /** A key whose slot {@code master} serves now. */
  public String keyServedBy(PrivateRedis master) {
    for (int i = 0; i < 100_000; i++) {
      String key = "private-redis:probe:" + i;
      if (masterOf(key).port() == master.port()) {
        return key;
      }
    }
    throw new IllegalStateException(master.address() + " serves no slot");
  }

  /** A replication offset from {@code INFO replication}. */
  public static long offset(PrivateRedis node, String field) {
    for (String line : node.command("INFO", "replication").split("\r?\n")) {
      if (line.startsWith(field + ":")) {
        return Long.parseLong(line.substring(field.length() + 1).trim());
      }
    }
    throw new IllegalStateException(node.address() + " has no " + field);
  }

  /** The masters now, as the cluster says. */
  public List<PrivateRedis> masters() {
    return live().stream().filter(n -> role(n).equals("master")).toList();
  }

  /**
   * Waits until every node that runs says {@code cluster_state:ok} and sees every slot served by a
   * master that runs: after a kill, until a replica was promoted and every node knows it.
   */
  public void awaitHealthy(Duration atMost) {
    await()
        .atMost(atMost)
        .pollInterval(Duration.ofMillis(100))
        .ignoreExceptions()
        .until(
            () -> {
              List<PrivateRedis> live = live();
              Set<Integer> livePorts = new HashSet<>();
              live.forEach(n -> livePorts.add(n.port()));
              for (PrivateRedis node : live) {
                String info = node.command("CLUSTER", "INFO");
                if (!info.contains("cluster_state:ok")
                    || !info.contains("cluster_slots_ok:16384")
                    || !livePorts.containsAll(slotOwners(node))) {
                  return false;
                }
              }
              return true;
            });
  }

  /** The ports of the masters that serve slots, as {@code node} sees them. */
  private static Set<Integer> slotOwners(PrivateRedis node) {
    Set<Integer> owners = new HashSet<>();
    for (String line : node.command("CLUSTER", "NODES").split("\n")) {
      String[] f = line.trim().split(" ");
      if (f.length >= 9 && f[2].contains("master")) {
        owners.add(Integer.parseInt(f[1].substring(f[1].indexOf(':') + 1, f[1].indexOf('@'))));
      }
    }
    return owners;
  }

  private List<PrivateRedis> live() {
    return nodes.stream().filter(PrivateRedisCluster::answers).toList();
  }

  private static boolean answers(PrivateRedis node) {
    try {
      return "+PONG".equals(node.command("PING"));
    } catch (RuntimeException e) {
      return false;
    }
  }

  private static String role(PrivateRedis node) {
    String info = Optional.ofNullable(node.command("INFO", "replication")).orElse("");
    return info.contains("role:master") ? "master" : "replica";
  }

  private static String redisCli() {
    String configured = System.getenv("SHEPHERD_REDIS_CLI");
    return configured == null || configured.isBlank() ? "redis-cli" : configured;
  }

  private static void run(List<String> command, Path log) {
    try {
      Process process =
          new ProcessBuilder(command)
              .redirectErrorStream(true)
              .redirectOutput(ProcessBuilder.Redirect.to(log.toFile()))
              .start();
      if (!process.waitFor(60, TimeUnit.SECONDS)) {
        process.destroyForcibly();
        throw new IllegalStateException(String.join(" ", command) + " took over a minute");
      }
      if (process.exitValue() != 0) {
        throw new IllegalStateException(
            String.join(" ", command)
                + " failed ("
                + process.exitValue()
                + "):\n"
                + Files.readString(log));
      }
    } catch (IOException e) {
      throw new UncheckedIOException(
          "cannot run "
              + command.getFirst()
              + ": a Redis Cluster is created with redis-cli (Debian's redis-tools); install it"
              + " or point $SHEPHERD_REDIS_CLI at one",
          e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  @Override
  public void close() {
    nodes.forEach(PrivateRedis::close);
  }
}
