package dev.shepherd.store;

import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.awaitility.Awaitility.await;

import dev.shepherd.testsupport.ServiceEndpoints;
import io.lettuce.core.RedisCommandExecutionException;
import io.lettuce.core.api.sync.RedisCommands;
import io.lettuce.core.codec.StringCodec;
import io.lettuce.core.output.ArrayOutput;
import io.lettuce.core.protocol.CommandArgs;
import io.lettuce.core.protocol.CommandType;
import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Watches a Redis (every master of a Redis Cluster) with {@code MONITOR} on a connection of its own
 * and keeps, for every script call whose {@code KEYS[1]} starts with a prefix, the commands the
 * script ran. Redis runs a script atomically and (7.x) shows its {@code EVALSHA} line right before
 * the script's own {@code [n lua]} lines, so the lua lines that follow a call belong to it; other
 * clients on the shared Redis are left out by the prefix.
 *
 * <pre>{@code
 * try (var monitor = ScriptMonitor.start(endpoints, prefix, shas)) {
 *   ... drive the store ...
 *   List<ScriptMonitor.Call> calls = monitor.stop();
 * }
 * }</pre>
 */
final class ScriptMonitor implements AutoCloseable {

  /**
   * One script call: which script (null for one the store did not load), the {@code KEYS[1]} it was
   * given, and the commands it ran.
   */
  record Call(Script script, String base, List<List<String>> commands) {}

  private static final Pattern LINE = Pattern.compile("^[0-9.]+ \\[(\\d+) (.*?)\\] (.*)$");

  private final List<Node> nodes = new ArrayList<>();
  private final String prefix;
  private final Map<String, Script> bySha;
  private final List<Call> calls = new CopyOnWriteArrayList<>();
  private final List<List<String>> plain = new CopyOnWriteArrayList<>();
  private final String sentinel = "script-monitor-end-" + UUID.randomUUID();

  /** One node's MONITOR stream: a script's lua lines follow its call on the same node. */
  private final class Node {
    final String host;
    final int port;
    final Socket socket;
    volatile boolean sawSentinel;
    volatile Call current;

    Node(String host, int port, Socket socket) {
      this.host = host;
      this.port = port;
      this.socket = socket;
    }
  }

  private ScriptMonitor(String prefix, Map<String, Script> bySha) {
    this.prefix = prefix;
    this.bySha = bySha;
  }

  /**
   * Starts monitoring the Redis of {@code endpoints}, or every master of its cluster (each runs the
   * scripts of its own slots); {@code bySha} names each script by the SHA-1 of its source.
   */
  static ScriptMonitor start(ServiceEndpoints endpoints, String prefix, Map<String, Script> bySha)
      throws IOException {
    var monitor = new ScriptMonitor(prefix, bySha);
    List<String> addresses =
        endpoints.redisIsCluster()
            ? endpoints.redisCluster()
            : List.of(endpoints.redisHost() + ":" + endpoints.redisPort());
    try {
      for (String address : addresses) {
        String host = address.substring(0, address.lastIndexOf(':'));
        int port = Integer.parseInt(address.substring(address.lastIndexOf(':') + 1));
        if (endpoints.redisIsCluster()
            && !command(host, port, "INFO", "replication").contains("role:master")) {
          continue;
        }
        monitor.monitor(host, port);
      }
    } catch (IOException | RuntimeException e) {
      monitor.close();
      throw e;
    }
    return monitor;
  }

  private void monitor(String host, int port) throws IOException {
    Socket socket = new Socket(host, port);
    socket.getOutputStream().write("MONITOR\r\n".getBytes(ISO_8859_1));
    socket.getOutputStream().flush();
    InputStream in = new BufferedInputStream(socket.getInputStream());
    String ok = readLine(in);
    if (!"+OK".equals(ok)) {
      socket.close();
      throw new IllegalStateException("MONITOR answered " + ok);
    }
    var node = new Node(host, port, socket);
    nodes.add(node);
    Thread reader = new Thread(() -> read(node, in), "script-monitor-" + port);
    reader.setDaemon(true);
    reader.start();
  }

  /**
   * Waits until every monitored node has shown everything it ran before this call, then returns the
   * calls seen.
   */
  List<Call> stop() throws IOException {
    for (Node node : nodes) {
      command(node.host, node.port, "ECHO", sentinel);
    }
    await().atMost(Duration.ofSeconds(30)).until(() -> nodes.stream().allMatch(n -> n.sawSentinel));
    return List.copyOf(calls);
  }

  /** One command on a connection of its own; the reply's first line, or a bulk reply's text. */
  private static String command(String host, int port, String... arguments) throws IOException {
    try (Socket socket = new Socket(host, port)) {
      var request = new StringBuilder("*").append(arguments.length).append("\r\n");
      for (String argument : arguments) {
        request.append('$').append(argument.getBytes(UTF_8).length).append("\r\n");
        request.append(argument).append("\r\n");
      }
      socket.getOutputStream().write(request.toString().getBytes(UTF_8));
      socket.getOutputStream().flush();
      InputStream in = new BufferedInputStream(socket.getInputStream());
      String line = readLine(in);
      if (line == null || !line.startsWith("$")) {
        return String.valueOf(line);
      }
      return new String(in.readNBytes(Integer.parseInt(line.substring(1))), UTF_8);
    }
  }

  /**
   * The keys Redis says a command touches ({@code COMMAND GETKEYS}), or null when Redis says it
   * takes none (TIME).
   */
  static List<String> keysOf(RedisCommands<String, String> redis, List<String> command) {
    CommandArgs<String, String> args = new CommandArgs<>(StringCodec.UTF8).add("GETKEYS");
    command.forEach(args::add);
    try {
      List<Object> keys =
          redis.dispatch(CommandType.COMMAND, new ArrayOutput<>(StringCodec.UTF8), args);
      return keys.stream().map(String::valueOf).toList();
    } catch (RedisCommandExecutionException noKeys) {
      return null;
    }
  }

  /**
   * The commands outside scripts that named a key under the prefix, as seen until {@link #stop}:
   * each one is a round trip of its own.
   */
  List<List<String>> plainCommands() {
    return List.copyOf(plain);
  }

  @Override
  public void close() throws IOException {
    for (Node node : nodes) {
      node.socket.close();
    }
  }

  private void read(Node node, InputStream in) {
    try {
      for (String line = readLine(in); line != null; line = readLine(in)) {
        accept(node, line.startsWith("+") ? line.substring(1) : line);
      }
    } catch (IOException closed) {
      // the socket was closed by close()
    }
  }

  private void accept(Node node, String line) {
    Matcher m = LINE.matcher(line);
    if (!m.matches()) {
      return;
    }
    List<byte[]> args = arguments(m.group(3));
    if (args.isEmpty()) {
      return;
    }
    if (m.group(2).equals("lua")) {
      if (node.current != null) {
        node.current.commands().add(args.stream().map(a -> new String(a, UTF_8)).toList());
      }
      return;
    }
    node.current = null;
    String command = new String(args.getFirst(), UTF_8).toUpperCase();
    if (command.equals("ECHO") && args.size() == 2 && sentinel.equals(text(args.get(1)))) {
      node.sawSentinel = true;
    } else if ((command.equals("EVALSHA") || command.equals("EVAL")) && args.size() > 3) {
      String base = text(args.get(3));
      if (base.startsWith(prefix)) {
        String sha = command.equals("EVAL") ? sha1(args.get(1)) : text(args.get(1));
        // null: a script this store did not load
        Script script = bySha.get(sha.toLowerCase());
        node.current = new Call(script, base, new CopyOnWriteArrayList<>());
        calls.add(node.current);
      }
    } else if (args.stream().skip(1).anyMatch(a -> text(a).startsWith(prefix))) {
      plain.add(args.stream().map(ScriptMonitor::text).toList());
    }
  }

  private static String text(byte[] bytes) {
    return new String(bytes, UTF_8);
  }

  /** MONITOR's quoted arguments ({@code "SET" "a\"b" "\xe2\x80\x94"}) as bytes. */
  static List<byte[]> arguments(String quoted) {
    List<byte[]> args = new ArrayList<>();
    ByteArrayOutputStream arg = null;
    for (int i = 0; i < quoted.length(); i++) {
      char c = quoted.charAt(i);
      if (arg == null) {
        if (c == '"') {
          arg = new ByteArrayOutputStream();
        }
      } else if (c == '"') {
        args.add(arg.toByteArray());
        arg = null;
      } else if (c == '\\') {
        char e = quoted.charAt(++i);
        switch (e) {
          case 'n' -> arg.write('\n');
          case 'r' -> arg.write('\r');
          case 't' -> arg.write('\t');
          case 'a' -> arg.write(7);
          case 'b' -> arg.write('\b');
          case 'x' -> {
            arg.write(Integer.parseInt(quoted.substring(i + 1, i + 3), 16));
            i += 2;
          }
          default -> arg.write(e);
        }
      } else {
        arg.write(c);
      }
    }
    return args;
  }

  private static String readLine(InputStream in) throws IOException {
    ByteArrayOutputStream line = new ByteArrayOutputStream();
    int b;
    while ((b = in.read()) != -1) {
      if (b == '\n') {
        byte[] bytes = line.toByteArray();
        int end =
            bytes.length > 0 && bytes[bytes.length - 1] == '\r' ? bytes.length - 1 : bytes.length;
        return new String(bytes, 0, end, ISO_8859_1);
      }
      line.write(b);
    }
    return null;
  }

  private static String sha1(byte[] source) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-1").digest(source));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
