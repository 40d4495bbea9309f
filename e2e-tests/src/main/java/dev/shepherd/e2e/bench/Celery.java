package dev.shepherd.e2e.bench;

import com.rabbitmq.client.ConnectionFactory;
import dev.shepherd.model.Json;
import dev.shepherd.testsupport.ManagedProcess;
import dev.shepherd.testsupport.ServiceEndpoints;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.springframework.data.redis.connection.RedisConnection;
import org.springframework.data.redis.connection.RedisStandaloneConfiguration;
import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;
import tools.jackson.databind.JsonNode;

/**
 * The system users compare Shepherd with, on the same RabbitMQ and Redis: Debian's Celery 5.2 with
 * prefork workers, late acks, a persistent message per task, a no-op task and Redis results ({@code
 * bench/celery/tasks.py}). It is measured the two ways Shepherd is: a backlog queued before any
 * worker starts, then drained; and tasks submitted as fast as the producer can while the workers
 * run. {@code bench/celery/driver.py} publishes the tasks and reads their results' own finish
 * times; this class starts the workers and samples their CPU time.
 *
 * <p>Each run has its own queue and exchange and its own task ids ({@code <run>-<phase>-<i>}),
 * whose results are the only keys it writes, in Redis database {@link #REDIS_DB}; {@link #close}
 * deletes all of them.
 */
final class Celery implements AutoCloseable {

  /** Celery's results live apart from Shepherd's keys, so that DBSIZE counts them cheaply. */
  static final int REDIS_DB = 9;

  private static final String INSTALL = "apt-get install python3-celery python3-redis";
  private static final long POLL_MILLIS = 500; // as Shepherd's throughput run samples

  /** How long the queue's depth may stand still before the backlog is taken as queued. */
  private static final Duration QUEUE_SETTLED = Duration.ofSeconds(10);

  /** How long the results' count may stand still before a phase is given up. */
  private static final Duration STALLED = Duration.ofSeconds(60);

  private final Path dir;
  private final String python;
  private final ServiceEndpoints endpoints;
  private final String run;
  private final Path logDir;
  private final Map<String, String> env = new LinkedHashMap<>();
  private final List<Process> workers = new ArrayList<>();
  private final List<String> phases = new ArrayList<>();
  private final LettuceConnectionFactory redis;

  /** Whether the scenario can run here: Celery's versions, or why it is skipped. */
  record Check(Map<String, Object> versions, String skipped) {}

  Celery(Path root, ServiceEndpoints endpoints, String run, Path logDir) {
    this.dir = root.resolve("bench/celery");
    this.python = python();
    this.endpoints = endpoints;
    this.run = run;
    this.logDir = logDir;
    env.put("BENCH_CELERY_BROKER", endpoints.rabbitmq().toString());
    env.put(
        "BENCH_CELERY_BACKEND",
        "redis://" + endpoints.redisHost() + ":" + endpoints.redisPort() + "/" + REDIS_DB);
    env.put("BENCH_CELERY_QUEUE", run);
    var config = new RedisStandaloneConfiguration(endpoints.redisHost(), endpoints.redisPort());
    config.setDatabase(REDIS_DB);
    redis = new LettuceConnectionFactory(config);
    redis.afterPropertiesSet();
    redis.start();
  }

  /**
   * Debian's python3, which python3-celery installs into (a python3 earlier on PATH, pyenv's say,
   * would not see it); {@code SHEPHERD_BENCH_PYTHON} chooses another.
   */
  static String python() {
    String configured = System.getenv("SHEPHERD_BENCH_PYTHON");
    if (configured != null && !configured.isBlank()) {
      return configured;
    }
    return Files.isExecutable(Path.of("/usr/bin/python3")) ? "/usr/bin/python3" : "python3";
  }

  /** Imports celery and redis as the workers will; names the Debian packages that are missing. */
  static Check check(Path root) {
    return check(root, python());
  }

  static Check check(Path root, String python) {
    Result result;
    try {
      result = execute(root.resolve("bench/celery"), python, Map.of(), "check");
    } catch (UncheckedIOException e) {
      return new Check(
          Map.of(),
          "skipped: cannot run "
              + python
              + " ("
              + e.getCause().getMessage()
              + "); install Debian's python3 and then "
              + INSTALL);
    }
    if (result.exit() != 0) {
      return new Check(Map.of(), "skipped: " + python + " driver.py check failed: " + result.err());
    }
    JsonNode json = result.json();
    List<String> missing = new ArrayList<>();
    json.path("missing").forEach(p -> missing.add(p.asString()));
    if (!missing.isEmpty()) {
      return new Check(
          Map.of(),
          "skipped: "
              + python
              + " cannot import celery and redis; missing Debian packages: "
              + String.join(" ", missing)
              + " (install with: apt-get install "
              + String.join(" ", missing)
              + ")");
    }
    Map<String, Object> versions = new LinkedHashMap<>();
    versions.put("python", json.path("python").asString());
    json.path("versions")
        .properties()
        .forEach(e -> versions.put(e.getKey(), e.getValue().asString()));
    return new Check(versions, null);
  }

  /**
   * Queues {@code n} tasks with no worker running, waits until the broker holds them all, starts
   * the workers and times the drain from the first task finished to the last, by the results' own
   * finish times. The workers keep running for {@link #live}.
   */
  Map<String, Object> backlog(int n, int workerCount, int concurrency) {
    String phase = phase("backlog");
    long results = dbSize();
    JsonNode enqueued = driver("enqueue", phase, Integer.toString(n));
    int queued = awaitQueued(n);
    if (queued < n) {
      Bench.log(
          "Celery backlog: %d of %d tasks published reached the queue (no publisher confirms)",
          queued, n);
    }
    Bench.log("Celery backlog: %d tasks queued; starting %d workers", queued, workerCount);
    for (int i = 1; i <= workerCount; i++) {
      startWorker(i, concurrency);
    }
    awaitReady();
    SteadyCpu steady = new SteadyCpu(queued, this::cpuSecondsByWorker);
    JsonNode done = awaitFinished(phase, n, queued, results, steady);
    double seconds =
        Math.max(done.path("lastFinish").asDouble() - done.path("firstFinish").asDouble(), 0.001);
    Map<String, Object> figures = new LinkedHashMap<>();
    figures.put("jobs", n);
    figures.put("lostAtEnqueue", n - queued);
    figures.put("succeeded", done.path("succeeded").asInt());
    figures.put(
        "enqueueSeconds",
        Bench.round(
            enqueued.path("lastSubmit").asDouble() - enqueued.path("firstSubmit").asDouble()));
    figures.put("drainSeconds", Bench.round(seconds));
    figures.put("drainJobsPerSecond", Bench.round(queued / seconds));
    figures.put("drainPerSecond", done.path("perSecond"));
    figures.put("steadyCpu", steady.figures());
    Bench.log(
        "Celery backlog: drained %.0f tasks/s; tasks finished in each second from the first: %s",
        queued / seconds, done.path("perSecond"));
    return figures;
  }

  /**
   * Publishes {@code n} tasks as fast as the producer can while the workers run; jobs/s from the
   * first submit to the last finish, and the workers' CPU per task in the steady window.
   */
  Map<String, Object> live(int n) {
    String phase = phase("live");
    long results = dbSize();
    Process producer = start(List.of("driver.py", "enqueue", phase, Integer.toString(n)));
    SteadyCpu steady = new SteadyCpu(n, this::cpuSecondsByWorker);
    JsonNode done = awaitFinished(phase, n, n, results, steady);
    Result enqueued = finish(producer);
    double first = enqueued.json().path("firstSubmit").asDouble();
    double seconds = Math.max(done.path("lastFinish").asDouble() - first, 0.001);
    Map<String, Object> figures = new LinkedHashMap<>();
    figures.put("jobs", n);
    figures.put("succeeded", done.path("succeeded").asInt());
    figures.put(
        "enqueueSeconds", Bench.round(enqueued.json().path("lastSubmit").asDouble() - first));
    figures.put("seconds", Bench.round(seconds));
    figures.put("jobsPerSecond", Bench.round(n / seconds));
    figures.put("steadyCpu", steady.figures());
    Bench.log("Celery live: %.0f tasks/s", n / seconds);
    return figures;
  }

  private String phase(String name) {
    String phase = run + "-" + name;
    phases.add(phase);
    return phase;
  }

  private void startWorker(int i, int concurrency) {
    Path log = logDir.resolve("celery-worker-" + i + ".log");
    List<String> args =
        List.of(
            "-m",
            "celery",
            "-A",
            "tasks",
            "worker",
            "--pool",
            "prefork",
            "--concurrency",
            Integer.toString(concurrency),
            "--hostname",
            run + "-" + i + "@%h",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "--loglevel",
            "INFO");
    try {
      Files.createDirectories(logDir);
      ProcessBuilder builder = builder(args).redirectErrorStream(true);
      builder.redirectOutput(log.toFile());
      workers.add(ManagedProcess.endsWithThisJvm(builder.start()));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start Celery worker " + i, e);
    }
  }

  /** Waits for every worker's "ready." line (it consumes from then on). */
  private void awaitReady() {
    long start = System.nanoTime();
    for (int i = 1; i <= workers.size(); i++) {
      Path log = logDir.resolve("celery-worker-" + i + ".log");
      while (true) {
        try {
          if (Files.exists(log) && Files.readString(log).contains(" ready.")) {
            break;
          }
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
        if (!workers.get(i - 1).isAlive()) {
          throw new IllegalStateException("Celery worker " + i + " exited; see " + log);
        }
        if ((System.nanoTime() - start) / 1e9 > 120) {
          throw new IllegalStateException("Celery worker " + i + " not ready in 2 min; see " + log);
        }
        LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(100)); // polling the worker's log
      }
    }
  }

  /**
   * Polls the results' count (DBSIZE of Celery's database, cheap) until it reaches {@code
   * expected}, then confirms with the exact results of the phase's {@code n} task ids, which also
   * give their finish times. Fails at once, saying so, when no task finished for {@link #STALLED}:
   * a task that never reached the queue would otherwise be waited for until the 10-minute limit.
   *
   * @param baseline the count before the phase's first task was published
   */
  private JsonNode awaitFinished(
      String phase, int n, int expected, long baseline, SteadyCpu steady) {
    long start = System.nanoTime();
    long lastCount = -1;
    long lastProgress = start;
    while (true) {
      LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(POLL_MILLIS)); // the sampling interval
      long finished = dbSize() - baseline;
      if (steady != null) {
        steady.observe(finished);
      }
      if (finished >= expected) {
        JsonNode done = driver("finished", phase, Integer.toString(n));
        if (done.path("finished").asInt() >= expected) {
          return done;
        }
      }
      if (finished != lastCount) {
        lastCount = finished;
        lastProgress = System.nanoTime();
      } else if (System.nanoTime() - lastProgress > STALLED.toNanos()) {
        throw new IllegalStateException(
            "only "
                + finished
                + " of "
                + expected
                + " Celery tasks finished, and none for "
                + STALLED.toSeconds()
                + " s; see "
                + logDir);
      }
      for (Process w : workers) {
        if (!w.isAlive()) {
          throw new IllegalStateException("a Celery worker exited; see " + logDir);
        }
      }
      if ((System.nanoTime() - start) / 1e9 > 600) {
        throw new IllegalStateException(
            "only " + finished + " of " + n + " Celery tasks finished in 10 minutes");
      }
    }
  }

  /** Each worker's CPU seconds: its main process and its prefork children together. */
  private Map<String, Double> cpuSecondsByWorker() {
    Map<String, Double> cpu = new LinkedHashMap<>();
    for (int i = 0; i < workers.size(); i++) {
      ProcessHandle main = workers.get(i).toHandle();
      double seconds =
          Costs.cpuSecondsOf(main) + main.descendants().mapToDouble(Costs::cpuSecondsOf).sum();
      cpu.put("celery-worker-" + (i + 1), seconds);
    }
    return cpu;
  }

  /**
   * Waits until Celery's queue holds {@code n} tasks, or its depth stood still for {@link
   * #QUEUE_SETTLED} (a publish without a confirm can be lost); returns the depth.
   */
  private int awaitQueued(int n) {
    int depth = -1;
    long lastChange = System.nanoTime();
    while (true) {
      int now = queueDepth();
      if (now >= n) {
        return now;
      }
      if (now != depth) {
        depth = now;
        lastChange = System.nanoTime();
      } else if (System.nanoTime() - lastChange > QUEUE_SETTLED.toNanos()) {
        return depth;
      }
      LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(POLL_MILLIS)); // polling the queue
    }
  }

  private int queueDepth() {
    var factory = new ConnectionFactory();
    try {
      factory.setUri(endpoints.rabbitmq());
      try (var connection = factory.newConnection("bench-celery-depth");
          var channel = connection.createChannel()) {
        return channel.queueDeclarePassive(run).getMessageCount();
      }
    } catch (Exception e) {
      throw new IllegalStateException("cannot read the depth of Celery's queue " + run, e);
    }
  }

  private long dbSize() {
    try (RedisConnection c = redis.getConnection()) {
      Long size = c.serverCommands().dbSize();
      return size == null ? 0 : size;
    }
  }

  /** Stops the workers (warm shutdown, then SIGKILL) and deletes the queue and every result. */
  @Override
  public void close() {
    for (Process w : workers) {
      List<ProcessHandle> children = w.descendants().toList();
      w.destroy();
      try {
        if (!w.waitFor(20, TimeUnit.SECONDS)) {
          w.destroyForcibly();
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      children.forEach(ProcessHandle::destroyForcibly);
    }
    List<String> args = new ArrayList<>(List.of("cleanup"));
    args.addAll(phases);
    try {
      JsonNode cleaned = driver(args.toArray(String[]::new));
      Bench.log("Celery cleanup: %s", cleaned);
    } finally {
      redis.destroy();
    }
  }

  private JsonNode driver(String... args) {
    Result result = execute(dir, python, env, args);
    if (result.exit() != 0) {
      throw new IllegalStateException(
          "driver.py " + String.join(" ", args) + " failed: " + result.err());
    }
    return result.json();
  }

  private Process start(List<String> args) {
    try {
      return builder(args).start();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private ProcessBuilder builder(List<String> args) {
    return builder(dir, python, env, args);
  }

  private static ProcessBuilder builder(
      Path dir, String python, Map<String, String> env, List<String> args) {
    List<String> command = new ArrayList<>();
    command.add(python);
    command.addAll(args);
    ProcessBuilder builder = new ProcessBuilder(command).directory(dir.toFile());
    builder.environment().putAll(env);
    builder.environment().put("PYTHONDONTWRITEBYTECODE", "1"); // no __pycache__ in the repository
    return builder;
  }

  private record Result(int exit, String out, String err) {
    JsonNode json() {
      String[] lines = out.strip().split("\n");
      return Json.mapper().readTree(lines[lines.length - 1]);
    }
  }

  private static Result execute(Path dir, String python, Map<String, String> env, String... args) {
    List<String> command = new ArrayList<>(List.of("driver.py"));
    command.addAll(List.of(args));
    try {
      return finish(builder(dir, python, env, command).start());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static Result finish(Process p) {
    try {
      // stderr is read on its own thread: a full pipe would block the driver
      var err = CompletableFuture.supplyAsync(() -> read(p.getErrorStream()));
      String out = read(p.getInputStream());
      int exit = p.waitFor();
      return new Result(exit, out, err.join());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  private static String read(InputStream in) {
    try {
      return new String(in.readAllBytes());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
