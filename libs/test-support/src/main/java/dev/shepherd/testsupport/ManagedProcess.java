package dev.shepherd.testsupport;

import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.awaitility.core.ConditionTimeoutException;

/**
 * One service as its own JVM, as production runs it, with its output in {@code
 * <logDir>/<name>.log}. End-to-end tests kill it (SIGKILL), stop it (SIGTERM), freeze it (SIGSTOP)
 * and resume it.
 */
public final class ManagedProcess implements AutoCloseable {

  /**
   * Processes started and not yet ended. When the JVM that started them ends (a bench stopped with
   * Ctrl-C or SIGTERM, a test run killed by its time-out), they are killed with it: an orphaned
   * cluster goes on polling the shared Redis and broker and skews every run after it.
   */
  private static final Set<Process> LIVE = ConcurrentHashMap.newKeySet();

  static {
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () ->
                    LIVE.forEach(
                        p -> {
                          p.descendants().forEach(ProcessHandle::destroyForcibly);
                          p.destroyForcibly();
                        }),
                "managed-process-shutdown"));
  }

  /**
   * Kills {@code process} and its descendants (a Celery worker's prefork children) when this JVM
   * ends, if it still runs then. Every process this class starts is registered.
   */
  public static Process endsWithThisJvm(Process process) {
    LIVE.add(process);
    process.onExit().thenRun(() -> LIVE.remove(process));
    return process;
  }

  private final String name;
  private final Process process;
  private final Path log;

  private ManagedProcess(String name, Process process, Path log) {
    this.name = name;
    this.process = process;
    this.log = log;
  }

  public static ManagedProcess startJava(
      String name,
      Path jar,
      List<String> jvmArgs,
      List<String> appArgs,
      Map<String, String> env,
      Path logDir) {
    return startJava(name, jar, null, jvmArgs, appArgs, env, logDir);
  }

  /**
   * Starts a Spring Boot jar with a directory in front of its classpath, so that a test can serve
   * the service a changed resource (a mutated Lua script) without a hook in production code. Spring
   * Boot's PropertiesLauncher puts {@code loader.path} before the jar's own classes and libraries.
   *
   * @param classpathFirst the directory, or null to start the jar as {@code java -jar} does
   */
  public static ManagedProcess startJava(
      String name,
      Path jar,
      Path classpathFirst,
      List<String> jvmArgs,
      List<String> appArgs,
      Map<String, String> env,
      Path logDir) {
    List<String> launch =
        classpathFirst == null
            ? List.of("-jar", jar.toString())
            : List.of(
                "-Dloader.path=" + classpathFirst,
                "-cp",
                jar.toString(),
                "org.springframework.boot.loader.launch.PropertiesLauncher");
    return start(name, javaCommand(jvmArgs, launch, appArgs), env, logDir);
  }

  /**
   * Starts a main class on a class path of plain jars and directories, in that order: a Spring Boot
   * jar extracted by its tools ({@code java -Djarmode=tools -jar ... extract}), whose manifest's
   * {@code Class-Path} names its libraries, with a directory in front whose files replace the jar's
   * resources of the same name.
   */
  public static ManagedProcess startJava(
      String name,
      List<Path> classPath,
      String mainClass,
      List<String> jvmArgs,
      List<String> appArgs,
      Map<String, String> env,
      Path logDir) {
    String joined =
        String.join(java.io.File.pathSeparator, classPath.stream().map(Path::toString).toList());
    return start(
        name, javaCommand(jvmArgs, List.of("-cp", joined, mainClass), appArgs), env, logDir);
  }

  /** {@code java}, its options, what it launches, and the application's arguments. */
  private static List<String> javaCommand(
      List<String> jvmArgs, List<String> launch, List<String> appArgs) {
    List<String> command = new ArrayList<>();
    command.add(javaExecutable());
    command.addAll(jvmArgs);
    command.addAll(launch);
    command.addAll(appArgs);
    return command;
  }

  private static ManagedProcess start(
      String name, List<String> command, Map<String, String> env, Path logDir) {
    try {
      Files.createDirectories(logDir);
      Path log = logDir.resolve(name + ".log");
      var builder = new ProcessBuilder(command).redirectErrorStream(true);
      builder.redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())); // restarts append
      builder.environment().putAll(env);
      return new ManagedProcess(name, endsWithThisJvm(builder.start()), log);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start " + name + ": " + command, e);
    }
  }

  private static String javaExecutable() {
    return ProcessHandle.current()
        .info()
        .command()
        .filter(c -> c.endsWith("java"))
        .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
  }

  /**
   * Ports handed out by {@link #freePort}: below Linux's ephemeral range (32768 and up), which the
   * kernel gives to outgoing connections. A port the kernel picked for {@code new ServerSocket(0)}
   * lies in that range, and one of the many Redis and AMQP client connections of a run could take
   * it before the service bound it (a clean-clone run failed with "Port ... was already in use").
   */
  private static final int FIRST_PORT = 20_000;

  private static final int PORTS = 12_000;

  /** Every port {@link #freePort} gave out in this JVM: none is given twice. */
  private static final java.util.Set<Integer> HANDED_OUT =
      java.util.concurrent.ConcurrentHashMap.newKeySet();

  /**
   * The ports any JVM of this machine handed out lately, one empty file each: make test's lanes and
   * the modules' test forks start private brokers and Redis servers at the same time, and two JVMs
   * picking at random would give the same free port to two processes, the second of which then
   * cannot bind it.
   */
  static final Path CLAIMS = Path.of(System.getProperty("java.io.tmpdir"), "shepherd-test-ports");

  /**
   * How long a claim keeps the port from other JVMs: far longer than a process takes to bind it.
   * After that a port still in use is skipped because it is bound, and a free one may be handed out
   * again.
   */
  static final Duration CLAIMED_FOR = Duration.ofMinutes(10);

  /**
   * A port nothing listens on right now, outside the range outgoing connections use, and handed out
   * neither by this JVM before nor by another JVM of this machine within {@link #CLAIMED_FOR}: two
   * processes started at once would otherwise race for the same port, free when asked and taken by
   * the first to bind.
   */
  public static int freePort() {
    var random = java.util.concurrent.ThreadLocalRandom.current();
    IOException last = null;
    for (int i = 0; i < 100; i++) {
      int candidate = FIRST_PORT + random.nextInt(PORTS);
      if (!HANDED_OUT.add(candidate) || !claim(candidate)) {
        continue; // given to a process of this JVM or of another one already
      }
      try (ServerSocket socket = new ServerSocket(candidate)) {
        return socket.getLocalPort();
      } catch (IOException e) {
        last = e; // taken: try another
      }
    }
    throw new UncheckedIOException("no free port found below the ephemeral range", last);
  }

  /**
   * Claims {@code port} for this JVM: creates its claim file, or takes over one older than {@link
   * #CLAIMED_FOR} by renaming it first (of two JVMs taking over the same claim, only one renames
   * it). False when another JVM claimed it lately.
   */
  static boolean claim(int port) {
    Path claim = CLAIMS.resolve(Integer.toString(port));
    try {
      Files.createDirectories(CLAIMS);
      try {
        Files.createFile(claim);
        return true;
      } catch (java.nio.file.FileAlreadyExistsException held) {
        long age = System.currentTimeMillis() - Files.getLastModifiedTime(claim).toMillis();
        if (age < CLAIMED_FOR.toMillis()) {
          return false;
        }
        Path stale = CLAIMS.resolve(port + "." + ProcessHandle.current().pid() + ".stale");
        Files.move(claim, stale, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        Files.delete(stale);
        Files.createFile(claim);
        return true;
      }
    } catch (java.nio.file.NoSuchFileException | java.nio.file.FileAlreadyExistsException e) {
      return false; // another JVM took the stale claim over first
    } catch (IOException e) {
      throw new UncheckedIOException("cannot claim port " + port + " in " + CLAIMS, e);
    }
  }

  public String name() {
    return name;
  }

  public long pid() {
    return process.pid();
  }

  public boolean isAlive() {
    return process.isAlive();
  }

  /** SIGKILL, and wait for the process to be gone. */
  public void kill() {
    process.destroyForcibly();
    waitFor(Duration.ofSeconds(30));
  }

  /** SIGTERM, then SIGKILL if it is still alive after {@code grace}. */
  public void stop(Duration grace) {
    if (!process.isAlive()) {
      return;
    }
    process.destroy();
    if (!waitFor(grace)) {
      kill();
    }
  }

  /** SIGSTOP: the process freezes, holding its connections, as a hung worker would. */
  public void pause() {
    signal("STOP");
  }

  /**
   * SIGQUIT: a JVM prints every thread's stack to its output (this process's log) and goes on; for
   * a test that found a process stuck, to say where.
   */
  public void dumpThreads() {
    if (process.isAlive()) {
      signal("QUIT");
    }
  }

  /** SIGCONT. */
  public void resume() {
    signal("CONT");
  }

  private void signal(String signal) {
    signal(pid(), signal);
  }

  /** Sends {@code signal} (STOP, CONT, ...) to process {@code pid}; also for private servers. */
  static void signal(long pid, String signal) {
    try {
      Process kill = new ProcessBuilder("kill", "-" + signal, Long.toString(pid)).start();
      if (!kill.waitFor(10, TimeUnit.SECONDS) || kill.exitValue() != 0) {
        throw new IllegalStateException("kill -" + signal + " " + pid + " failed");
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  private boolean waitFor(Duration timeout) {
    try {
      return process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  /**
   * Waits until {@code healthUrl} answers 200; fails with the log's tail if it dies or times out.
   */
  public void awaitHealthy(URI healthUrl, Duration timeout) {
    HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    HttpRequest request =
        HttpRequest.newBuilder(healthUrl).timeout(Duration.ofSeconds(5)).GET().build();
    try {
      await()
          .atMost(timeout)
          .pollInterval(Duration.ofMillis(250))
          .failFast(name + " exited", () -> !process.isAlive())
          .ignoreExceptionsInstanceOf(java.io.IOException.class)
          .until(
              () -> http.send(request, HttpResponse.BodyHandlers.discarding()).statusCode() == 200);
    } catch (ConditionTimeoutException | org.awaitility.core.TerminalFailureException e) {
      String why =
          process.isAlive() ? "not healthy after " + timeout : "exited with " + process.exitValue();
      throw new IllegalStateException(
          name + " " + why + " (" + healthUrl + "); last lines of " + log + ":\n" + logTail(40), e);
    }
    if (!process.isAlive()) {
      throw new IllegalStateException(name + " exited; last lines of " + log + ":\n" + logTail(40));
    }
  }

  /** The last {@code lines} lines of the process's output. */
  public String logTail(int lines) {
    try {
      List<String> all = Files.readAllLines(log);
      return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
    } catch (IOException | UncheckedIOException e) {
      return "(log unreadable: " + e + ")";
    }
  }

  public Path log() {
    return log;
  }

  @Override
  public void close() {
    stop(Duration.ofSeconds(5));
  }
}
