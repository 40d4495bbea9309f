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

  private PrivateRedis() {
    super("redis", "SHEPHERD_REDIS_SERVER", "redis-server");
  }

  /** Starts one and returns once it answers PING. */
  public static PrivateRedis launch() {
    var redis = new PrivateRedis();
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
    return Duration.ofSeconds(30);
  }
}
