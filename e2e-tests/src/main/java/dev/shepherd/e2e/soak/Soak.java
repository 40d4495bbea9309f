package dev.shepherd.e2e.soak;

import dev.shepherd.e2e.Cluster;
import dev.shepherd.e2e.JvmOptions;
import dev.shepherd.e2e.bench.Machine;
import dev.shepherd.e2e.bench.Submitter;
import dev.shepherd.messaging.Topology;
import dev.shepherd.messaging.config.MessagingProperties;
import dev.shepherd.model.JobSubmission;
import dev.shepherd.model.Json;
import dev.shepherd.testsupport.PrivateRedis;
import dev.shepherd.testsupport.RabbitCleanup;
import dev.shepherd.testsupport.RedisOrphans;
import dev.shepherd.testsupport.ServiceEndpoints;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.springframework.data.redis.connection.RedisConnectionFactory;
import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;
import org.springframework.data.redis.core.RedisCallback;
import org.springframework.data.redis.core.StringRedisTemplate;

/**
 * {@code make soak}: proves that Redis memory is bounded (DESIGN.md invariant 8). Starts the four
 * services and several workers as processes against a private Redis (so its {@code used_memory} is
 * this run's alone) and the local RabbitMQ, with a short retention; pushes many jobs through the
 * real path (AMQP submissions, mostly {@code demo.noop}, one in a hundred {@code demo.poison} that
 * dies with a dead-job record, one in ten with an idempotency key), never more than a window of
 * them unfinished; then waits for the retention and the trim pass. It passes when no key of a job
 * is left, a key scan finds no orphan, and {@code used_memory} is back within 10 % of where it was
 * before the jobs (measured after a warm-up whose jobs were themselves expired and trimmed, so
 * loaded scripts and connections count in both). {@code SoakQuickIT} runs a small version in {@code
 * make test}.
 */
public final class Soak {

  /**
   * @param jobs how many jobs go through
   * @param warmUpJobs jobs run, and left to expire, before the baseline is measured
   * @param retention {@code shepherd.store.retention} and {@code dead-retention}
   * @param window most jobs submitted but not finished at any time
   */
  public record Config(
      String mode,
      int jobs,
      int warmUpJobs,
      Duration retention,
      int workers,
      int workerCapacity,
      int window) {

    public static Config full() {
      return new Config("full", 200_000, 1_000, Duration.ofSeconds(10), 2, 8, 5_000);
    }

    /** With a custom number of jobs ({@code make soak JOBS=50000}). */
    public Config withJobs(int n) {
      return new Config(mode, n, warmUpJobs, retention, workers, workerCapacity, window);
    }

    /** The small version in {@code make test}, so the soak's code cannot rot. */
    public static Config quick() {
      return new Config("quick", 2_000, 200, Duration.ofSeconds(5), 2, 8, 1_000);
    }
  }

  /** How far above the baseline {@code used_memory} may end. */
  public static final double MEMORY_TOLERANCE = 0.10;

  /** The shipped JVM options ({@code deploy/jvm.options}), with more heap than the tests'. */
  private static final List<String> JVM_ARGS = JvmOptions.deployment("-Xmx384m");

  private final Config config;
  private final URI rabbitmq;
  private final Map<String, Object> results = new LinkedHashMap<>();
  private Cluster cluster;
  private StringRedisTemplate redis;
  private RedisConnectionFactory redisConnections;
  private String prefix;
  private long finishedSoFar;

  private Soak(Config config, URI rabbitmq) {
    this.config = config;
    this.rabbitmq = rabbitmq;
  }

  public static void main(String[] args) throws Exception {
    Config config = List.of(args).contains("--quick") ? Config.quick() : Config.full();
    String jobs = System.getenv("SOAK_JOBS");
    if (jobs != null && !jobs.isBlank()) {
      config = config.withJobs(Integer.parseInt(jobs.trim()));
    }
    URI rabbit =
        URI.create(
            System.getenv()
                .getOrDefault("SHEPHERD_RABBITMQ_URI", "amqp://guest:guest@127.0.0.1:5672"));
    Map<String, Object> results =
        run(config, rabbit, Cluster.repositoryRoot().resolve("build/soak"));
    System.out.println(Json.mapper().writerWithDefaultPrettyPrinter().writeValueAsString(results));
    System.exit(Boolean.TRUE.equals(results.get("passed")) ? 0 : 1);
  }

  /** Runs the soak; returns its figures, also written to {@code out/soak-<mode>.json}. */
  public static Map<String, Object> run(Config config, URI rabbitmq, Path out) throws Exception {
    return new Soak(config, rabbitmq).run(out);
  }

  private Map<String, Object> run(Path out) throws Exception {
    Files.createDirectories(out);
    results.put("mode", config.mode());
    results.put("date", Instant.now().toString());
    results.put("machine", Machine.describe());
    results.put("jobs", config.jobs());
    results.put("workers", config.workers() + " x capacity " + config.workerCapacity());
    results.put("retentionSeconds", config.retention().toSeconds());
    prefix = "soak" + Long.toString(System.currentTimeMillis(), 36);
    try (PrivateRedis privateRedis = PrivateRedis.launch()) {
      var endpoints =
          new ServiceEndpoints(
              rabbitmq, URI.create("redis://127.0.0.1:" + privateRedis.port()), "soak");
      LettuceConnectionFactory connections = endpoints.newRedisConnectionFactory();
      redisConnections = connections;
      redis = new StringRedisTemplate(connections);
      results.put("usedMemoryEmptyRedis", usedMemory());
      String retention = config.retention().toMillis() + "ms";
      var spec =
          new Cluster.Spec(
              Cluster.repositoryRoot(),
              prefix,
              endpoints.asSpringProperties(),
              config.workers(),
              config.workerCapacity(),
              Map.of(
                  "shepherd.store.retention", retention,
                  "shepherd.store.dead-retention", retention,
                  "shepherd.recovery.trim-interval", "2s"),
              out.resolve("logs-" + config.mode()));
      log("starting scheduler, status-tracker, recovery and %d workers", config.workers());
      try {
        // the quick run keeps the code from rotting (it measures Redis, not the JVMs): fast start
        cluster =
            config.mode().equals("quick")
                ? Cluster.startFast(spec, JVM_ARGS)
                : Cluster.start(spec, JVM_ARGS);
        log(
            "warm-up: %d jobs, then until their keys expired and were trimmed",
            config.warmUpJobs());
        runJobs(config.warmUpJobs());
        settle(Duration.ofMinutes(5));
        long before = usedMemory();
        results.put("usedMemoryBefore", before);
        log("baseline used_memory %,d B; %,d jobs", before, config.jobs());
        AtomicLong peak = new AtomicLong(before);
        long start = System.nanoTime();
        runJobs(config.jobs(), peak);
        double seconds = (System.nanoTime() - start) / 1e9;
        results.put("seconds", Math.round(seconds));
        results.put("jobsPerSecond", Math.round(config.jobs() / seconds));
        results.put("usedMemoryPeak", peak.get());
        log(
            "all %,d finished in %.0f s; peak used_memory %,d B",
            config.jobs(), seconds, peak.get());
        long settleStart = System.nanoTime();
        int keysLeft = settle(config.retention().plus(Duration.ofMinutes(5)));
        results.put("settleSeconds", Math.round((System.nanoTime() - settleStart) / 1e9));
        long after = memoryBack(before, MEMORY_SETTLE);
        results.put("memoryAfter", memoryParts());
        List<String> orphans = RedisOrphans.find(redisConnections, prefix);
        results.put("usedMemoryAfter", after);
        results.put("afterOverBefore", Math.round(1000.0 * after / before) / 1000.0);
        results.put("jobKeysLeft", keysLeft);
        results.put("orphans", orphans.size());
        results.put("orphanExamples", orphans.stream().limit(10).toList());
        results.put(
            "passed",
            keysLeft == 0 && orphans.isEmpty() && after <= before * (1 + MEMORY_TOLERANCE));
        log(
            "used_memory %,d B before, %,d B after (%.1f %%); %d keys of jobs left; %d orphans;"
                + " after: %s",
            before,
            after,
            100.0 * (after - before) / before,
            keysLeft,
            orphans.size(),
            results.get("memoryAfter"));
      } finally {
        if (cluster != null) {
          cluster.close();
        }
        var topology = new Topology(prefix, MessagingProperties.DEFAULT_POOLS, 5);
        var rabbit = endpoints.newRabbitConnectionFactory();
        RabbitCleanup.delete(rabbit, topology.queueNames(), topology.exchangeNames());
        rabbit.destroy();
        connections.destroy();
      }
    }
    Files.writeString(
        out.resolve("soak-" + config.mode() + ".json"),
        Json.mapper().writerWithDefaultPrettyPrinter().writeValueAsString(results));
    return results;
  }

  private void runJobs(int n) throws Exception {
    runJobs(n, new AtomicLong());
  }

  /**
   * Submits n jobs over AMQP, never more than the window unfinished, and waits until all finished
   * (SUCCEEDED or DEAD); samples {@code used_memory} into {@code peak} meanwhile.
   */
  private void runJobs(int n, AtomicLong peak) throws Exception {
    long target = finishedSoFar + n;
    long lastLog = System.nanoTime();
    Instant deadline = Instant.now().plus(Duration.ofMinutes(10)).plusSeconds(n / 20);
    try (var submitter = new Submitter(rabbitmq, prefix)) {
      int submitted = 0;
      while (true) {
        long finished = finished();
        peak.accumulateAndGet(usedMemory(), Math::max);
        if (finished >= target) {
          break;
        }
        long room = config.window() - (finishedSoFar + submitted - finished);
        for (int i = 0; i < room && submitted < n; i++, submitted++) {
          submitter.submit(submission(submitted));
        }
        submitter.flush();
        if (System.nanoTime() - lastLog > TimeUnit.SECONDS.toNanos(30)) {
          log("  %,d of %,d finished", finished - finishedSoFar, n);
          lastLog = System.nanoTime();
        }
        if (Instant.now().isAfter(deadline)) {
          throw new IllegalStateException(
              "only " + (finished - finishedSoFar) + " of " + n + " jobs finished by " + deadline);
        }
        LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(500)); // polling the finished count
      }
    }
    finishedSoFar = target;
  }

  private JobSubmission submission(int i) {
    var job =
        JobSubmission.of(
            i % 100 == 99 ? "demo.poison" : "demo.noop", Json.mapper().createObjectNode());
    return i % 10 == 0 ? job.withIdempotencyKey(prefix + "-" + finishedSoFar + "-" + i) : job;
  }

  private long finished() {
    return Math.round(
        cluster.succeeded() + cluster.applied("shepherd.jobs.dead")); // ADR 56: where applied
  }

  /**
   * Waits until no key of any partition is left (every job, record and index entry expired or
   * trimmed; only the worker registry stays), or the timeout; returns the keys left.
   */
  private int settle(Duration timeout) {
    Instant deadline = Instant.now().plus(timeout);
    while (true) {
      List<String> left =
          RedisOrphans.keys(redisConnections, prefix).stream()
              .filter(k -> k.contains(":{p"))
              .toList();
      if (left.isEmpty() || Instant.now().isAfter(deadline)) {
        if (!left.isEmpty()) {
          log(
              "still %d keys after %s, e.g. %s",
              left.size(), timeout, left.subList(0, Math.min(5, left.size())));
        }
        return left.size();
      }
      LockSupport.parkNanos(
          TimeUnit.SECONDS.toNanos(1)); // polling Redis's expiry and the trim pass
    }
  }

  /**
   * How long {@code used_memory} may take to come back once no job key is left: the clients'
   * buffers (query and reply buffers of the services' connections, counted in {@code used_memory})
   * are given back by Redis's client cron, within seconds of a burst. A clean-clone run beside
   * another end-to-end class read 19 % over the baseline the moment the keys were gone.
   */
  static final Duration MEMORY_SETTLE = Duration.ofSeconds(30);

  /**
   * {@code used_memory} once it is back within the tolerance of {@code before}, or, after {@code
   * timeout}, the last reading: data left behind never comes back, buffers do.
   */
  private long memoryBack(long before, Duration timeout) {
    Instant deadline = Instant.now().plus(timeout);
    while (true) {
      long now = usedMemory();
      if (now <= before * (1 + MEMORY_TOLERANCE) || Instant.now().isAfter(deadline)) {
        return now;
      }
      LockSupport.parkNanos(TimeUnit.SECONDS.toNanos(1)); // polling Redis's client cron
    }
  }

  /** The parts of {@code used_memory} that tell data from buffers, for the report. */
  private Map<String, Long> memoryParts() {
    Properties memory = memoryInfo();
    Map<String, Long> parts = new LinkedHashMap<>();
    for (String field :
        List.of(
            "used_memory", "used_memory_dataset", "mem_clients_normal", "used_memory_scripts")) {
      String value = memory.getProperty(field);
      if (value != null) {
        parts.put(field, Long.parseLong(value.trim()));
      }
    }
    return parts;
  }

  /**
   * {@code used_memory} of the private Redis. The slow log is emptied first: it is Redis's own
   * bounded buffer (128 entries), and a big trim batch may land in it.
   */
  private long usedMemory() {
    redis.execute((RedisCallback<Object>) c -> c.execute("SLOWLOG", "RESET".getBytes()));
    return Long.parseLong(memoryInfo().getProperty("used_memory").trim());
  }

  /** The private Redis's {@code INFO memory}. */
  private Properties memoryInfo() {
    return redis.execute((RedisCallback<Properties>) c -> c.serverCommands().info("memory"));
  }

  private static void log(String format, Object... args) {
    System.out.printf(
        "[%s] %s%n",
        DateTimeFormatter.ofPattern("HH:mm:ss").withZone(ZoneOffset.UTC).format(Instant.now()),
        String.format(format, args));
  }
}
