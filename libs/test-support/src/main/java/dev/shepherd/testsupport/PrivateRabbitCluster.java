package dev.shepherd.testsupport;

import static org.awaitility.Awaitility.await;

import dev.shepherd.model.Json;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.awaitility.core.ConditionTimeoutException;
import tools.jackson.databind.JsonNode;

/**
 * Three RabbitMQ nodes of a test's own on one machine, clustered: each a {@link PrivateRabbit} with
 * its own node name ({@code shepherd-test-<port>@localhost}), ports and directory, all sharing one
 * Erlang cookie. They find each other through {@code classic_config} peer discovery, every member's
 * {@code rabbitmq.conf} naming all three; quorum queues declared once the cluster is formed have a
 * member on every node. Clients connect with {@link #addresses()}.
 *
 * <p>A test kills a node with {@code node(i).kill()} (SIGKILL), starts it again with {@code
 * node(i).start()}, which returns once it accepts AMQP connections, and {@link #awaitFormed()}
 * until every node counts all three running again. {@link #close()} kills them all and deletes
 * their directories; they are killed with the JVM too.
 */
public final class PrivateRabbitCluster implements AutoCloseable {

  public static final int SIZE = 3;

  private static final Duration FORMATION = Duration.ofSeconds(90);
  private static final Duration CTL_TIMEOUT = Duration.ofSeconds(30);

  private final List<PrivateRabbit> nodes = new ArrayList<>();

  private PrivateRabbitCluster() {
    List<Integer> ports = new ArrayList<>();
    List<Integer> distributionPorts = new ArrayList<>();
    // A blank node that finds no peer running retries discovery 10 times, 500 ms apart, before it
    // boots a cluster of its own: 5 s of the first node's start. It is started alone on purpose,
    // and the others find it at their first try, so one retry, soon, is enough.
    StringBuilder peers =
        new StringBuilder(
            """
            cluster_formation.peer_discovery_backend = classic_config
            cluster_formation.discovery_retry_limit = 1
            cluster_formation.discovery_retry_interval = 100
            """);
    for (int i = 0; i < SIZE; i++) {
      ports.add(ManagedProcess.freePort());
      distributionPorts.add(ManagedProcess.freePort());
      peers
          .append("cluster_formation.classic_config.nodes.")
          .append(i + 1)
          .append(" = ")
          .append(PrivateRabbit.nodeName(ports.get(i)))
          .append('\n');
    }
    // letters only: the cookie is an Erlang atom
    String cookie = "SHEPHERD" + UUID.randomUUID().toString().replace("-", "").toUpperCase();
    try {
      for (int i = 0; i < SIZE; i++) {
        nodes.add(
            new PrivateRabbit(
                ports.get(i),
                distributionPorts.get(i),
                peers.toString(),
                "guest",
                "guest",
                cookie));
      }
    } catch (RuntimeException e) {
      nodes.forEach(PrivateRabbit::close);
      throw e;
    }
  }

  /**
   * Starts the three nodes and returns once each counts all three running in its cluster. The first
   * boots alone, then the other two at once: a blank node joins the first peer it finds running,
   * and three blank nodes started together could each find none and form three clusters of one.
   */
  public static PrivateRabbitCluster launch() {
    var cluster = new PrivateRabbitCluster();
    try {
      cluster.nodes.getFirst().start();
      try (var starting = Executors.newVirtualThreadPerTaskExecutor()) {
        List<CompletableFuture<Void>> joining = new ArrayList<>();
        for (PrivateRabbit node : cluster.nodes.subList(1, SIZE)) {
          joining.add(CompletableFuture.runAsync(node::start, starting));
        }
        CompletableFuture.allOf(joining.toArray(CompletableFuture[]::new)).join();
      }
      cluster.awaitFormed();
      return cluster;
    } catch (RuntimeException e) {
      cluster.close();
      throw e;
    }
  }

  /**
   * {@code 127.0.0.1:p1,127.0.0.1:p2,127.0.0.1:p3}, for {@code spring.rabbitmq.addresses} or {@code
   * CachingConnectionFactory.setAddresses}.
   */
  public String addresses() {
    return nodes.stream().map(node -> "127.0.0.1:" + node.port()).collect(Collectors.joining(","));
  }

  /** Node {@code i} (0, 1 or 2): kill, stop, start or freeze it as a single private node. */
  public PrivateRabbit node(int i) {
    return nodes.get(i);
  }

  public List<PrivateRabbit> nodes() {
    return List.copyOf(nodes);
  }

  /** The node named so ({@code shepherd-test-<port>@localhost}). */
  public PrivateRabbit node(String nodeName) {
    return nodes.stream()
        .filter(node -> node.nodeName().equals(nodeName))
        .findFirst()
        .orElseThrow(() -> new IllegalArgumentException("no node " + nodeName + " here"));
  }

  /** Waits until every node runs and counts all three running in its cluster. */
  public void awaitFormed() {
    Set<String> all = nodes.stream().map(PrivateRabbit::nodeName).collect(Collectors.toSet());
    List<String> seen = new ArrayList<>();
    try {
      await()
          .atMost(FORMATION)
          .pollInterval(Duration.ofMillis(500))
          .until(
              () -> {
                seen.clear();
                boolean formed = true;
                for (PrivateRabbit node : nodes) {
                  Set<String> running = runningNodesSeenBy(node);
                  seen.add(node.nodeName() + " sees " + running);
                  formed &= running.equals(all);
                }
                return formed;
              });
    } catch (ConditionTimeoutException e) {
      throw new IllegalStateException(
          "the RabbitMQ cluster did not form within " + FORMATION + ": " + seen, e);
    }
  }

  /** The nodes {@code node} counts running in its cluster; none when it cannot be asked. */
  private Set<String> runningNodesSeenBy(PrivateRabbit node) {
    if (!node.isRunning()) {
      return Set.of();
    }
    try {
      JsonNode status = Json.mapper().readTree(ctl(node, "cluster_status", "--formatter", "json"));
      Set<String> running = new TreeSet<>();
      status.path("running_nodes").forEach(n -> running.add(n.asString()));
      return running;
    } catch (RuntimeException e) {
      return Set.of();
    }
  }

  /**
   * A queue as the cluster describes it ({@code rabbitmqctl list_queues}).
   *
   * @param type {@code quorum} or {@code classic}
   * @param members the nodes holding a replica (a quorum queue's; empty for a classic one)
   * @param online the members running now
   * @param leader the member that leads a quorum queue
   * @param messages ready and unacknowledged
   * @param consumers consumers subscribed now
   */
  public record Queue(
      String name,
      String type,
      List<String> members,
      List<String> online,
      String leader,
      long messages,
      long consumers) {}

  /**
   * How many times a read-only query ({@link #queues()}, {@link #connectionsByNode()}) is asked
   * before it gives up: under make test's two lanes the two cores can be saturated for minutes, and
   * a clean-clone run saw one {@code list_queues} (a CLI that boots an Erlang VM of its own, then
   * asks every member of every quorum queue) take over {@link #CTL_TIMEOUT} with all three nodes
   * up.
   */
  private static final int QUERY_TRIES = 3;

  /** Every queue of the default virtual host, as the first running node describes it. */
  public List<Queue> queues() {
    JsonNode list =
        Json.mapper()
            .readTree(
                query(
                    "list_queues",
                    "name",
                    "type",
                    "members",
                    "online",
                    "leader",
                    "messages",
                    "consumers",
                    "--formatter",
                    "json"));
    List<Queue> queues = new ArrayList<>();
    for (JsonNode q : list) {
      queues.add(
          new Queue(
              q.path("name").asString(),
              q.path("type").asString(),
              strings(q.path("members")),
              strings(q.path("online")),
              q.path("leader").asString(""),
              q.path("messages").asLong(0),
              q.path("consumers").asLong(0)));
    }
    return queues;
  }

  /**
   * How many client connections each node holds now, by node name (a node with none is absent): a
   * connection's name ends with the AMQP port it reached ({@code 127.0.0.1:52044 ->
   * 127.0.0.1:21101}), and each node has its own.
   */
  public Map<String, Integer> connectionsByNode() {
    Map<String, Integer> byNode = new TreeMap<>();
    for (JsonNode c :
        Json.mapper().readTree(query("list_connections", "name", "--formatter", "json"))) {
      String name = c.path("name").asString("");
      String port = name.substring(name.lastIndexOf(':') + 1).trim();
      nodes.stream()
          .filter(node -> Integer.toString(node.port()).equals(port))
          .forEach(node -> byNode.merge(node.nodeName(), 1, Integer::sum));
    }
    return byNode;
  }

  /**
   * Runs the read-only {@code rabbitmqctl args...} on the first running node, and asks again (of
   * the first running node then) when the answer did not come in time or could not be given, up to
   * {@link #QUERY_TRIES} times; fails with every try's reason.
   */
  private String query(String... args) {
    IllegalStateException failed = null;
    for (int tries = 1; tries <= QUERY_TRIES; tries++) {
      try {
        return ctl(anyRunning(), args);
      } catch (IllegalStateException e) {
        if (failed != null) {
          e.addSuppressed(failed);
        }
        failed = e;
      }
    }
    throw failed;
  }

  private PrivateRabbit anyRunning() {
    return nodes.stream()
        .filter(PrivateRabbit::isRunning)
        .findFirst()
        .orElseThrow(() -> new IllegalStateException("no node of the cluster runs"));
  }

  private static List<String> strings(JsonNode array) {
    List<String> values = new ArrayList<>();
    if (array.isArray()) {
      array.forEach(v -> values.add(v.asString()));
    }
    return values;
  }

  /**
   * Runs {@code rabbitmqctl -n <node> args...} with the node's {@code HOME} (and so its cookie) and
   * returns what it printed; fails with its output if it does not succeed in time.
   */
  String ctl(PrivateRabbit node, String... args) {
    return tool("rabbitmqctl", node, args);
  }

  /** Runs {@code tool -n <node> args...} ({@code rabbitmqctl}, {@code rabbitmq-diagnostics}). */
  private String tool(String tool, PrivateRabbit node, String... args) {
    Path ctl = node.executable().resolveSibling(tool);
    List<String> command = new ArrayList<>(List.of(ctl.toString(), "-n", node.nodeName()));
    command.addAll(List.of(args));
    try {
      var builder = new ProcessBuilder(command);
      builder.environment().put("HOME", node.dir().toString());
      Process process = ManagedProcess.endsWithThisJvm(builder.start());
      // both are a few kilobytes at most; read before waiting, so that a full pipe cannot block it
      CompletableFuture<String> out = readAsync(process.getInputStream());
      CompletableFuture<String> err = readAsync(process.getErrorStream());
      if (!process.waitFor(CTL_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
        process.destroyForcibly();
        throw new IllegalStateException(String.join(" ", command) + " took over " + CTL_TIMEOUT);
      }
      if (process.exitValue() != 0) {
        throw new IllegalStateException(
            String.join(" ", command)
                + " exited with "
                + process.exitValue()
                + ":\n"
                + out.join()
                + err.join());
      }
      return out.join();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot run " + command, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /**
   * Reads {@code stream} to its end on a virtual thread of its own, not in the common fork-join
   * pool: on a 2-core machine that pool has one thread, and a caller running in it (a cluster
   * launched with {@code CompletableFuture.supplyAsync}) would wait for ever for a read queued
   * behind itself.
   */
  private static CompletableFuture<String> readAsync(java.io.InputStream stream) {
    return CompletableFuture.supplyAsync(
        () -> {
          try {
            return new String(stream.readAllBytes(), StandardCharsets.UTF_8);
          } catch (IOException e) {
            throw new UncheckedIOException(e);
          }
        },
        command -> Thread.ofVirtual().name("rabbitmqctl-output").start(command));
  }

  /**
   * What each running node says of the cluster, for a failed test to print: the queues (members,
   * online members, leader, consumers, messages), the consumers, the channels (consumers and
   * unconfirmed publishes) and connections each node holds, {@code quorum_status} of {@code
   * quorumQueues} as each node sees it, and the last {@code logLines} lines of every node's log.
   * Whatever cannot be asked says why, in place.
   */
  public String diagnose(List<String> quorumQueues, int logLines) {
    StringBuilder out = new StringBuilder();
    for (PrivateRabbit node : nodes) {
      out.append("\n===== ").append(node.nodeName()).append(" in ").append(node.dir());
      if (!node.isRunning()) {
        out.append(" (not running)\n");
      } else {
        out.append('\n');
        ask(
            out,
            "rabbitmqctl",
            node,
            "list_queues",
            "name",
            "type",
            "leader",
            "members",
            "online",
            "consumers",
            "messages_ready",
            "messages_unacknowledged");
        ask(
            out,
            "rabbitmqctl",
            node,
            "list_consumers",
            "queue_name",
            "channel_pid",
            "consumer_tag",
            "ack_required",
            "prefetch_count",
            "active",
            "activity_status");
        ask(
            out,
            "rabbitmqctl",
            node,
            "list_channels",
            "pid",
            "connection",
            "name",
            "consumer_count",
            "messages_unacknowledged",
            "messages_unconfirmed",
            "confirm");
        ask(out, "rabbitmqctl", node, "list_connections", "pid", "name", "state", "channels");
        for (String queue : quorumQueues) {
          ask(out, "rabbitmq-diagnostics", node, "quorum_status", queue);
        }
      }
      for (Path log : nodeLogs(node)) {
        out.append("--- last ").append(logLines).append(" lines of ").append(log).append('\n');
        out.append(PrivateServer.tail(log, logLines)).append('\n');
      }
    }
    return out.toString();
  }

  private void ask(StringBuilder out, String tool, PrivateRabbit node, String... args) {
    out.append("--- ").append(tool).append(' ').append(String.join(" ", args)).append('\n');
    try {
      out.append(tool(tool, node, args));
    } catch (RuntimeException e) {
      out.append("(failed: ").append(e.getMessage()).append(")\n");
    }
  }

  /** The node's own log files: the server's output of each start and its log directory's. */
  private static List<Path> nodeLogs(PrivateRabbit node) {
    List<Path> logs = new ArrayList<>();
    for (Path dir : List.of(node.dir(), node.dir().resolve("log"))) {
      try (var files = java.nio.file.Files.list(dir)) {
        files.filter(f -> f.getFileName().toString().endsWith(".log")).sorted().forEach(logs::add);
      } catch (IOException | UncheckedIOException e) {
        // no such directory yet
      }
    }
    return logs;
  }

  /**
   * Leaves every node's directory (data and logs) behind at {@link #close()}, for a failed test;
   * returns where they are.
   */
  public List<Path> keepDirectories() {
    nodes.forEach(PrivateServer::keepDirectory);
    return nodes.stream().map(PrivateRabbit::dir).toList();
  }

  /** Kills every node and deletes their directories (unless {@link #keepDirectories()}). */
  @Override
  public void close() {
    // all at once: each waits about 2 s for its node's processes to be gone
    try (var closing = Executors.newVirtualThreadPerTaskExecutor()) {
      nodes.forEach(node -> closing.submit(node::close));
    }
  }
}
