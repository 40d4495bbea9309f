package dev.shepherd.testsupport;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;

/**
 * A Redis of a test's own, configured as production should be for Shepherd: AOF on with {@code
 * appendfsync everysec}, no RDB snapshots. {@link #stop()} is a clean shutdown (the AOF is
 * flushed); {@link #kill()} may lose up to the last second of writes, as a crash would. The binary
 * is {@code redis-server} on the PATH, or {@code $SHEPHERD_REDIS_SERVER}.
 */
public final class PrivateRedis extends PrivateServer {

  private final int port = ManagedProcess.freePort();
  private volatile Duration keyLoadDelay;
  private final Path aclFile;
  private final List<String> extraArguments;

  private final boolean sentinel;

  private PrivateRedis(Path aclFile, List<String> extraArguments) {
    this(aclFile, extraArguments, null);
  }

  /** A sentinel when {@code sentinelMonitors} is not null: its {@code sentinel ...} lines. */
  private PrivateRedis(Path aclFile, List<String> extraArguments, String sentinelMonitors) {
    super("redis", "SHEPHERD_REDIS_SERVER", "redis-server");
    this.aclFile = aclFile;
    this.extraArguments = extraArguments;
    this.sentinel = sentinelMonitors != null;
    if (sentinel) {
      try {
        // a sentinel rewrites its configuration file as it learns the topology
        Files.writeString(
            dir.resolve("sentinel.conf"),
            "port "
                + port
                + "\nbind 127.0.0.1\ndir "
                + dir
                + "\nsentinel resolve-hostnames no\n"
                + sentinelMonitors);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  }

  /**
   * Starts a Redis Sentinel that watches {@code master} under {@code name}, with a quorum of {@code
   * quorum}, judging it down after {@code downAfter} of silence.
   */
  public static PrivateRedis launchSentinel(
      String name, PrivateRedis master, int quorum, Duration downAfter) {
    String monitors =
        "sentinel monitor "
            + name
            + " 127.0.0.1 "
            + master.port()
            + " "
            + quorum
            + "\nsentinel down-after-milliseconds "
            + name
            + " "
            + downAfter.toMillis()
            + "\nsentinel failover-timeout "
            + name
            + " 10000\nsentinel parallel-syncs "
            + name
            + " 1\n";
    var sentinel = new PrivateRedis(null, List.of(), monitors);
    try {
      sentinel.start();
      return sentinel;
    } catch (RuntimeException e) {
      sentinel.close();
      throw e;
    }
  }

  /** Starts one and returns once it answers PING. */
  public static PrivateRedis launch() {
    return launch(null);
  }

  /**
   * Starts one whose users are those of {@code aclFile} ({@code --aclfile}), or the default user
   * alone when null. Its readiness probe and {@link #command} speak as the default user, so the
   * file must let that user PING (Shepherd's own does).
   */
  public static PrivateRedis launch(Path aclFile) {
    return launch(aclFile, List.of());
  }

  /** Starts a replica of {@code master} and returns once it has the master's data. */
  public static PrivateRedis launchReplicaOf(PrivateRedis master) {
    var replica =
        launch(null, List.of("--replicaof", "127.0.0.1", Integer.toString(master.port())));
    org.awaitility.Awaitility.await()
        .atMost(Duration.ofSeconds(30))
        .pollInterval(Duration.ofMillis(50))
        .until(() -> replica.command("INFO", "replication").contains("master_link_status:up"));
    return replica;
  }

  /**
   * Starts one with {@code extraArguments} after its own ({@code --cluster-enabled yes}, {@code
   * --replicaof ...}), as {@link PrivateRedisCluster} does.
   */
  static PrivateRedis launch(Path aclFile, List<String> extraArguments) {
    var redis = new PrivateRedis(aclFile, List.copyOf(extraArguments));
    try {
      redis.start();
      return redis;
    } catch (RuntimeException e) {
      redis.close();
      throw e;
    }
  }

  public int port() {
    return port;
  }

  /** {@code 127.0.0.1:<port>}. */
  public String address() {
    return "127.0.0.1:" + port;
  }

  /** The directory it runs in (its AOF, and a cluster node's {@code nodes.conf}). */
  Path directory() {
    return dir;
  }

  /**
   * The size of the append-only log Redis is writing now. Redis writes every command to it before
   * answering; with {@code appendfsync everysec} the last second of it may still be only in the
   * page cache, and a machine crash would lose it.
   */
  public long appendOnlyLogSize() {
    try {
      return Files.size(currentAppendOnlyLog());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * Simulates the crash of the machine under a killed Redis: drops what was written to the log
   * after it had {@code size} bytes, as if it had never reached the disk. Only while stopped.
   */
  public void loseAppendOnlyLogAfter(long size) {
    try (var channel = FileChannel.open(currentAppendOnlyLog(), StandardOpenOption.WRITE)) {
      channel.truncate(size);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * Sends one command over a connection of its own and returns the reply as text: a status ({@code
   * +OK}), an error ({@code -OOM ...}), an integer ({@code :1}) or a bulk string's content (null
   * when nil). Enough for {@code CONFIG SET}, {@code INFO}, {@code DBSIZE}.
   */
  public String command(String... arguments) {
    try (Socket socket = new Socket()) {
      socket.connect(new InetSocketAddress("127.0.0.1", port), 1000);
      socket.setSoTimeout(10_000);
      var request = new StringBuilder("*").append(arguments.length).append("\r\n");
      for (String argument : arguments) {
        byte[] bytes = argument.getBytes(StandardCharsets.UTF_8);
        request.append('$').append(bytes.length).append("\r\n").append(argument).append("\r\n");
      }
      OutputStream out = socket.getOutputStream();
      out.write(request.toString().getBytes(StandardCharsets.UTF_8));
      out.flush();
      InputStream in = new java.io.BufferedInputStream(socket.getInputStream());
      String line = readLine(in);
      if (!line.startsWith("$")) {
        return line;
      }
      int length = Integer.parseInt(line.substring(1));
      if (length < 0) {
        return null;
      }
      String bulk = new String(in.readNBytes(length), StandardCharsets.UTF_8);
      in.readNBytes(2);
      return bulk;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static String readLine(InputStream in) throws IOException {
    var line = new java.io.ByteArrayOutputStream();
    int b;
    while ((b = in.read()) != '\n') {
      if (b < 0) {
        throw new IOException("Redis closed the connection mid-reply");
      }
      if (b != '\r') {
        line.write(b);
      }
    }
    return line.toString(StandardCharsets.UTF_8);
  }

  /** True while Redis loads its data set at start and answers {@code LOADING} to commands. */
  public boolean loading() {
    String info = command("INFO", "persistence");
    return info != null && info.contains("\nloading:1");
  }

  /**
   * Redis refuses every write with {@code -OOM} ({@code maxmemory} of one byte, {@code noeviction})
   * until {@link #acceptWrites()}: what a full Redis does to its clients.
   */
  public void refuseWrites() {
    command("CONFIG", "SET", "maxmemory-policy", "noeviction");
    command("CONFIG", "SET", "maxmemory", "1");
    String reply = command("SET", "private-redis:probe", "1");
    if (reply == null || !reply.startsWith("-OOM")) {
      throw new IllegalStateException("Redis on port " + port + " still takes writes: " + reply);
    }
  }

  /** Ends {@link #refuseWrites()}. */
  public void acceptWrites() {
    String reply = command("CONFIG", "SET", "maxmemory", "0");
    if (!"+OK".equals(reply)) {
      throw new IllegalStateException("Redis on port " + port + " kept its memory cap: " + reply);
    }
  }

  /**
   * {@link #restartLoadingSlowly(Duration)}, watched: returns whether Redis was seen answering
   * {@code LOADING} meanwhile, so a test can show its clients met that state.
   */
  public boolean restartIntoLoading(Duration perKey) {
    var sawLoading = new java.util.concurrent.atomic.AtomicBoolean();
    Thread watch =
        Thread.ofPlatform()
            .name("redis-loading-watch")
            .daemon()
            .start(
                () -> {
                  while (!sawLoading.get() && !Thread.currentThread().isInterrupted()) {
                    try {
                      sawLoading.set(loading());
                    } catch (RuntimeException e) {
                      // stopped or starting: ask again
                    }
                    try {
                      // a sampler of a passing state while the restart blocks the caller; what
                      // it saw is read after the restart, so there is nothing to await here
                      Thread.sleep(10);
                    } catch (InterruptedException e) {
                      return;
                    }
                  }
                });
    try {
      restartLoadingSlowly(perKey);
    } finally {
      watch.interrupt();
    }
    return sawLoading.get();
  }

  /**
   * A restart after which Redis answers {@code -LOADING} for about {@code perKey} times the number
   * of keys, as a Redis with a large data set does: the AOF is rewritten so every key is in its RDB
   * base, and the new process loads each key {@code perKey} slowly ({@code key-load-delay}, the
   * knob Redis's own test suite uses for this). A test gets the LOADING phase of gigabytes without
   * writing them on a shared machine. Returns once Redis answers PING again, that is once loading
   * is over; clients see the refused connections and the LOADING replies meanwhile.
   */
  public void restartLoadingSlowly(Duration perKey) {
    command("BGREWRITEAOF");
    org.awaitility.Awaitility.await()
        .atMost(Duration.ofSeconds(60))
        .pollInterval(Duration.ofMillis(100))
        .until(
            () -> {
              String info = command("INFO", "persistence");
              return info.contains("aof_rewrite_in_progress:0")
                  && info.contains("aof_rewrite_scheduled:0");
            });
    stop();
    keyLoadDelay = perKey;
    try {
      start();
    } finally {
      keyLoadDelay = null;
    }
  }

  /** Redis 7 keeps a base file and numbered incremental files; the newest is written now. */
  private Path currentAppendOnlyLog() {
    try (var files = Files.list(dir.resolve("appendonlydir"))) {
      return files
          .filter(p -> p.getFileName().toString().endsWith(".incr.aof"))
          .max(
              Comparator.comparingInt(
                  p -> Integer.parseInt(p.getFileName().toString().split("\\.")[2])))
          .orElseThrow(() -> new IllegalStateException("no incremental AOF file in " + dir));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Override
  List<String> arguments() {
    if (sentinel) {
      return List.of(dir.resolve("sentinel.conf").toString(), "--sentinel");
    }
    List<String> arguments = new java.util.ArrayList<>(baseArguments());
    if (keyLoadDelay != null) {
      arguments.addAll(List.of("--key-load-delay", Long.toString(keyLoadDelay.toNanos() / 1000)));
    }
    if (aclFile != null) {
      arguments.addAll(List.of("--aclfile", aclFile.toAbsolutePath().toString()));
    }
    arguments.addAll(extraArguments);
    return arguments;
  }

  private List<String> baseArguments() {
    return List.of(
        "--port",
        Integer.toString(port),
        "--bind",
        "127.0.0.1",
        "--dir",
        dir.toString(),
        "--appendonly",
        "yes",
        "--appendfsync",
        "everysec",
        "--save",
        "",
        "--daemonize",
        "no");
  }

  @Override
  boolean answers() {
    return call(
        () -> {
          try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress("127.0.0.1", port), 1000);
            socket.setSoTimeout(1000);
            OutputStream out = socket.getOutputStream();
            out.write("PING\r\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            InputStream in = socket.getInputStream();
            byte[] reply = in.readNBytes(7);
            return new String(reply, StandardCharsets.US_ASCII).equals("+PONG\r\n");
          } catch (IOException e) {
            return false;
          }
        });
  }

  @Override
  Duration startTimeout() {
    return Duration.ofSeconds(60); // a slow load (restartLoadingSlowly) counts towards the start
  }
}
