package dev.shepherd.testsupport;

import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.awaitility.core.ConditionTimeoutException;

/**
 * A broker or Redis of a test's own, started from the machine's binaries in a directory of its own
 * on ports nobody else uses, so that a test may stop, kill and restart it without touching the
 * shared instances. Its data directory survives restarts; {@link #close()} kills it and deletes the
 * directory.
 */
abstract sealed class PrivateServer implements AutoCloseable permits PrivateRedis, PrivateRabbit {

  private final String name;
  private final String binaryVariable;
  private final String defaultBinary;
  protected final Path dir;
  private Process process;
  private int starts;
  private volatile boolean keep;

  /**
   * @param binaryVariable the environment variable that names the server binary
   * @param defaultBinary the binary otherwise: an absolute path, or a command looked up on the PATH
   */
  PrivateServer(String name, String binaryVariable, String defaultBinary) {
    this.name = name;
    this.binaryVariable = binaryVariable;
    this.defaultBinary = defaultBinary;
    try {
      this.dir = Files.createTempDirectory("shepherd-" + name + "-");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The arguments that run the server binary in the foreground. */
  abstract List<String> arguments();

  /** Environment for the server. */
  Map<String, String> environment() {
    return Map.of();
  }

  /** True once the server answers its protocol (not merely accepts a connection). */
  abstract boolean answers();

  /** How long a start may take. */
  abstract Duration startTimeout();

  /** Starts the server and returns once it answers. */
  public final synchronized void start() {
    if (process != null && process.isAlive()) {
      throw new IllegalStateException(name + " is already running");
    }
    Path executable = executable();
    List<String> command = new ArrayList<>();
    command.add(executable.toString());
    command.addAll(arguments());
    if (!Files.isExecutable(executable)) {
      throw new IllegalStateException(
          name
              + " cannot start: "
              + executable
              + " is not an executable file. Fault tests start private instances from the"
              + " machine's binaries; install them or point $"
              + binaryVariable
              + " at one.");
    }
    Path log = dir.resolve(name + "-" + ++starts + ".log");
    try {
      var builder = new ProcessBuilder(command).redirectErrorStream(true);
      builder.redirectOutput(ProcessBuilder.Redirect.to(log.toFile()));
      builder.directory(dir.toFile());
      builder.environment().putAll(environment());
      process = ManagedProcess.endsWithThisJvm(builder.start());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start " + name + ": " + command, e);
    }
    Process started = process;
    try {
      await()
          .atMost(startTimeout())
          .pollInterval(Duration.ofMillis(200))
          .failFast(name + " exited", () -> !started.isAlive())
          .until(this::answersQuietly);
    } catch (ConditionTimeoutException | org.awaitility.core.TerminalFailureException e) {
      String tail = tail(log);
      kill();
      throw new IllegalStateException(
          name
              + " did not come up within "
              + startTimeout()
              + "; last lines of "
              + log
              + ":\n"
              + tail,
          e);
    }
  }

  private boolean answersQuietly() {
    try {
      return answers();
    } catch (RuntimeException e) {
      return false;
    }
  }

  /** Graceful stop (SIGTERM to the server and its children); waits until it is gone. */
  public final synchronized void stop() {
    signalAll(false);
  }

  /** SIGKILL: the server dies without flushing anything. */
  public final synchronized void kill() {
    signalAll(true);
  }

  /**
   * SIGSTOP: the server freezes with its connections open, as a paused VM or a stalled disk would
   * leave it; clients wait for replies that do not come. {@link #thaw()} resumes it.
   */
  public final synchronized void freeze() {
    ManagedProcess.signal(running().pid(), "STOP");
  }

  /** SIGCONT: a frozen server answers again, including what it was asked meanwhile. */
  public final synchronized void thaw() {
    ManagedProcess.signal(running().pid(), "CONT");
  }

  /** Whether the server's process is alive (it may still be starting, or stopping). */
  final synchronized boolean isRunning() {
    return process != null && process.isAlive();
  }

  private Process running() {
    if (process == null || !process.isAlive()) {
      throw new IllegalStateException(name + " is not running");
    }
    return process;
  }

  /** Graceful stop, then start again on the same ports with the same data. */
  public final void restart() {
    stop();
    start();
  }

  /** SIGKILL, then start again on the same ports with what the data directory kept. */
  public final void killAndRestart() {
    kill();
    start();
  }

  private void signalAll(boolean force) {
    if (process == null) {
      return;
    }
    List<ProcessHandle> all =
        Stream.concat(process.descendants(), Stream.of(process.toHandle())).toList();
    for (ProcessHandle p : all.reversed()) {
      if (force) {
        p.destroyForcibly();
      } else {
        p.destroy();
      }
    }
    for (ProcessHandle p : all) {
      try {
        p.onExit().get(60, TimeUnit.SECONDS);
      } catch (Exception e) {
        p.destroyForcibly();
      }
    }
    process = null;
  }

  /** {@code $binaryVariable} if set, else the default binary, looked up on the PATH if relative. */
  Path executable() {
    String configured = System.getenv(binaryVariable);
    if (configured != null && !configured.isBlank()) {
      return Path.of(configured);
    }
    if (defaultBinary.contains("/")) {
      return Path.of(defaultBinary);
    }
    String path = System.getenv().getOrDefault("PATH", "/usr/bin:/bin");
    for (String entry : path.split(java.io.File.pathSeparator)) {
      Path candidate = Path.of(entry, defaultBinary);
      if (Files.isExecutable(candidate)) {
        return candidate;
      }
    }
    return Path.of("/usr/bin", defaultBinary);
  }

  static boolean call(Callable<Boolean> probe) {
    try {
      return probe.call();
    } catch (Exception e) {
      return false;
    }
  }

  private static String tail(Path log) {
    return tail(log, 30);
  }

  /**
   * Leaves the directory (data and logs) behind at {@link #close()}, so that a failed test's server
   * can be looked at afterwards.
   */
  public final void keepDirectory() {
    keep = true;
  }

  /** The last {@code lines} lines of {@code log}, or a note saying why there are none. */
  static String tail(Path log, int lines) {
    try {
      List<String> all = Files.readAllLines(log);
      return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
    } catch (IOException | UncheckedIOException e) {
      return "(no log: " + e + ")";
    }
  }

  @Override
  public void close() {
    kill();
    if (keep) {
      return;
    }
    try (Stream<Path> files = Files.walk(dir)) {
      files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      // a temp directory left behind is harmless
    }
  }
}
