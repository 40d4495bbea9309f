package dev.shepherd.e2e.bench;

import dev.shepherd.e2e.Cluster;
import dev.shepherd.e2e.metrics.Scrape;
import dev.shepherd.messaging.Topology;
import dev.shepherd.messaging.config.MessagingProperties;
import dev.shepherd.model.JobSubmission;
import dev.shepherd.model.Json;
import dev.shepherd.testsupport.ManagedProcess;
import dev.shepherd.testsupport.PrivateRedis;
import dev.shepherd.testsupport.RabbitCleanup;
import dev.shepherd.testsupport.ServiceEndpoints;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;
import org.springframework.data.redis.core.StringRedisTemplate;
import tools.jackson.databind.JsonNode;

/**
 * {@code make bench-soak} (issue 14): queues a large backlog (500,000 jobs, {@code
 * BENCH_SOAK_JOBS}) with no worker running, then drains it with 2 workers, and checks that no
 * process ran out of heap on the way: every process still alive, none logged an {@code
 * OutOfMemoryError} (they run with {@code -XX:+ExitOnOutOfMemoryError}, so one would also have
 * ended it), and every job SUCCEEDED. It reports Redis's {@code used_memory} and RabbitMQ's memory
 * per queued job, the intake and drain rates, and each process's peak heap, live data after GC and
 * GC pauses, sampled from its actuator. The services run against a private Redis (so {@code
 * used_memory} is this run's alone) and the shared RabbitMQ (its queues' own memory is this run's;
 * its resident memory is the whole broker's). {@code make bench-quick}, and so {@code BenchQuickIT}
 * in {@code make test}, runs a small backlog through the same code on the bench's cluster.
 */
public final class BacklogSoak {

  /** The drain's workers, as in the bench's backlog scenario. */
  static final int WORKERS = Bench.WORKERS;

  private static final HttpClient HTTP =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

  private final Cluster cluster;
  private final StringRedisTemplate redis;
  private final URI rabbitmq;
  private final Duration heapSampling;
  private final Map<String, Map<String, Double>> peaks = new ConcurrentHashMap<>();

  private BacklogSoak(
      Cluster cluster, StringRedisTemplate redis, URI rabbitmq, Duration heapSampling) {
    this.cluster = cluster;
    this.redis = redis;
    this.rabbitmq = rabbitmq;
    this.heapSampling = heapSampling;
  }

  /**
   * Runs the soak on a running cluster: stops its workers, queues {@code jobs}, drains them with
   * {@link #WORKERS} new workers (which stay running), and returns the figures.
   */
  static Map<String, Object> run(
      Cluster cluster, StringRedisTemplate redis, URI rabbitmq, int jobs, Duration heapSampling)
      throws Exception {
    Map<String, Object> figures = new LinkedHashMap<>();
    new BacklogSoak(cluster, redis, rabbitmq, heapSampling).run(jobs, figures);
    return figures;
  }

  /** {@code make bench-soak}: BENCH_SOAK_JOBS jobs (500,000 unless set); exits 1 if it failed. */
  public static void main(String[] args) throws Exception {
    String size = System.getenv("BENCH_SOAK_JOBS");
    int jobs = size == null || size.isBlank() ? 500_000 : Integer.parseInt(size.trim());
    URI rabbit =
        URI.create(
            System.getenv()
                .getOrDefault("SHEPHERD_RABBITMQ_URI", "amqp://guest:guest@127.0.0.1:5672"));
    Path out = Cluster.repositoryRoot().resolve("bench/results");
    Files.createDirectories(out);
    Map<String, Object> results = new LinkedHashMap<>();
    results.put("mode", "soak");
    results.put("date", Instant.now().toString());
    results.put("commit", Bench.command("git", "rev-parse", "--short", "HEAD"));
    results.put("machine", Machine.describe());
    String prefix = "bsoak" + Long.toString(System.currentTimeMillis(), 36);
    List<String> jvm = new ArrayList<>(Bench.JVM_ARGS);
    jvm.add("-XX:+ExitOnOutOfMemoryError");
    results.put("jvmArgs", jvm);
    Map<String, Object> figures = new LinkedHashMap<>();
    results.put("backlogSoak", figures);
    try (PrivateRedis privateRedis = PrivateRedis.launch()) {
      var endpoints =
          new ServiceEndpoints(
              rabbit, URI.create("redis://127.0.0.1:" + privateRedis.port()), "bsoak");
      LettuceConnectionFactory connections = endpoints.newRedisConnectionFactory();
      var spec =
          new Cluster.Spec(
              Cluster.repositoryRoot(),
              prefix,
              endpoints.asSpringProperties(),
              0,
              Bench.SLOTS_PER_WORKER,
              Map.of("shepherd.store.retention", "1h"),
              out.resolve("logs-soak"));
      Bench.log("starting scheduler, status-tracker and recovery on a private Redis");
      Cluster cluster = null;
      try {
        cluster = Cluster.start(spec, jvm);
        var soak =
            new BacklogSoak(
                cluster, new StringRedisTemplate(connections), rabbit, Duration.ofSeconds(2));
        soak.run(jobs, figures);
      } catch (Exception e) {
        // an hour's run keeps what it measured before it failed
        figures.put("error", e.toString());
        figures.put("passed", false);
        Bench.log("backlog soak FAILED: %s", e);
      } finally {
        if (cluster != null) {
          cluster.close();
        }
        var topology = new Topology(prefix, MessagingProperties.DEFAULT_POOLS, 5);
        var rabbitConnections = endpoints.newRabbitConnectionFactory();
        RabbitCleanup.delete(rabbitConnections, topology.queueNames(), topology.exchangeNames());
        rabbitConnections.destroy();
        connections.destroy();
      }
    }
    String stamp = ((String) results.get("date")).replaceAll("[:.]", "").substring(0, 15);
    Path json = out.resolve(stamp + "-" + results.get("commit") + "-soak.json");
    String table = table(Json.mapper().valueToTree(figures));
    results.put("table", table);
    String text = Json.mapper().writerWithDefaultPrettyPrinter().writeValueAsString(results);
    Files.writeString(json, text);
    Files.writeString(out.resolve("latest-soak.json"), text);
    Files.writeString(out.resolve("table-soak.md"), table);
    System.out.println(table);
    System.out.println("Results: " + json);
    boolean passed = Boolean.TRUE.equals(figures.get("passed"));
    System.exit(passed ? 0 : 1);
  }

  /** Fills {@code figures} as it goes, so a failure leaves what was measured before it. */
  private void run(int n, Map<String, Object> figures) throws Exception {
    cluster.scaleWorkers(0);
    double succeededBefore = cluster.succeeded();
    double deadBefore = statusTracker("shepherd.jobs.dead");
    long redisBefore = Costs.redisUsedMemory(redis);
    long rabbitBefore = Costs.rabbitMemory();
    AtomicBoolean done = new AtomicBoolean();
    var watching = CompletableFuture.runAsync(() -> watchHeaps(done));
    figures.put("jobs", n);
    figures.put("workers", WORKERS);
    figures.put("slotsPerWorker", Bench.SLOTS_PER_WORKER);
    try {
      Bench.log("backlog soak: queueing %,d jobs with no worker running", n);
      long start = System.nanoTime();
      try (var submitter = new Submitter(rabbitmq, cluster.prefix())) {
        for (int i = 0; i < n; i++) {
          submitter.submit(JobSubmission.of("demo.noop", Json.mapper().createObjectNode()));
          if ((i + 1) % 50_000 == 0) {
            Bench.log("  %,d submitted", i + 1);
          }
        }
      }
      awaitQueued(n, start);
      double queueSeconds = (System.nanoTime() - start) / 1e9;
      long redisQueued = Costs.redisUsedMemory(redis);
      long rabbitQueued = Costs.rabbitMemory();
      Map<String, Long> queues = queueMemory(cluster.prefix());
      figures.put("queueSeconds", Bench.round(queueSeconds));
      figures.put("queuedJobsPerSecond", Bench.round(n / queueSeconds));
      figures.put("redisUsedMemoryBefore", redisBefore);
      figures.put("redisUsedMemoryQueued", redisQueued);
      figures.put("redisBytesPerQueuedJob", (redisQueued - redisBefore) / n);
      figures.put("rabbitQueueMemoryBytes", queues);
      figures.put(
          "rabbitQueueBytesPerQueuedJob",
          queues.values().stream().mapToLong(Long::longValue).sum() / n);
      figures.put("rabbitRssBefore", rabbitBefore);
      figures.put("rabbitRssQueued", rabbitQueued);
      figures.put("rabbitRssBytesPerQueuedJob", (rabbitQueued - rabbitBefore) / n);
      Bench.log(
          "backlog soak: %,d queued in %.0f s; Redis %,d B per queued job, RabbitMQ queues %,d B"
              + " (broker RSS %,d B) per queued job; starting %d workers",
          n,
          queueSeconds,
          figures.get("redisBytesPerQueuedJob"),
          figures.get("rabbitQueueBytesPerQueuedJob"),
          figures.get("rabbitRssBytesPerQueuedJob"),
          WORKERS);
      double drainSeconds = drain(n, succeededBefore, figures);
      figures.put("drainSeconds", Bench.round(drainSeconds));
      figures.put("drainJobsPerSecond", Bench.round(n / drainSeconds));
      long redisFinished = Costs.redisUsedMemory(redis);
      figures.put("redisUsedMemoryFinished", redisFinished);
      figures.put("redisBytesPerFinishedJob", (redisFinished - redisBefore) / n);
    } finally {
      done.set(true);
      watching.join();
    }
    long succeeded = Math.round(cluster.succeeded() - succeededBefore);
    long dead = Math.round(statusTracker("shepherd.jobs.dead") - deadBefore);
    figures.put("succeeded", succeeded);
    figures.put("dead", dead);
    Map<String, Object> processes = processes();
    figures.put("processes", processes);
    boolean healthy =
        processes.values().stream()
            .map(p -> (Map<?, ?>) p)
            .allMatch(p -> Boolean.TRUE.equals(p.get("alive")) && p.get("outOfMemory") == null);
    figures.put("passed", succeeded == n && dead == 0 && healthy);
    Bench.log(
        "backlog soak: drained %.0f jobs/s; %,d of %,d succeeded, %d dead; processes %s",
        figures.get("drainJobsPerSecond"),
        succeeded,
        n,
        dead,
        healthy ? "all alive, no OutOfMemoryError" : "NOT all healthy: " + processes);
  }

  /** Until every job is in a work queue and the outbox is empty. */
  private void awaitQueued(int n, long start) {
    long limit = Math.max(900, n / 100);
    while (true) {
      Scrape s = Scrape.of(cluster.httpUris(cluster.processes()).values());
      if (s.sum("shepherd_queue_depth") >= n && s.sum("shepherd_outbox_size") == 0) {
        return;
      }
      if ((System.nanoTime() - start) / 1e9 > limit) {
        throw new IllegalStateException(
            "backlog not queued after " + limit + " s: " + s.sum("shepherd_queue_depth"));
      }
      LockSupport.parkNanos(TimeUnit.SECONDS.toNanos(1)); // polling the backlog's progress
    }
  }

  /**
   * Starts the workers and returns the seconds from the first job finished to the last, sampled
   * every 20 ms until the first finish and every 100 ms after it, so the workers' start-up does not
   * count (as in the bench's backlog scenario). It adds to {@code figures} the drain second by
   * second ({@code drainPerSecond}: jobs finished in each whole second from the first finish, the
   * last second a part one), the seconds from the workers' start to the first job finished, and
   * each process's CPU per job in the drain's steady window ({@link SteadyCpu}, the broker and
   * Redis beside them): what a backlog costs, start-up and warm-up of the new workers shown apart
   * from the rest.
   */
  private double drain(int n, double before, Map<String, Object> figures) {
    long limit = Math.max(1800, n / 50);
    var steady = new SteadyCpu(n, () -> Costs.cpuSecondsByProcess(cluster));
    List<Long> perSecond = new ArrayList<>();
    long began = System.nanoTime();
    var firstFinish = new AtomicLong(); // System.nanoTime() of the first finish
    var sampling =
        CompletableFuture.supplyAsync(
            () -> {
              long first = 0;
              long logged = began;
              double atLastSecond = 0;
              while (true) {
                double done = cluster.succeeded() - before;
                long now = System.nanoTime();
                if (done > 0 && first == 0) {
                  first = now;
                  firstFinish.set(now);
                }
                steady.observe(done);
                while (first != 0 && now - first >= (perSecond.size() + 1) * 1_000_000_000L) {
                  perSecond.add(Math.round(done - atLastSecond));
                  atLastSecond = done;
                }
                if (done >= n) {
                  if (done > atLastSecond) {
                    perSecond.add(Math.round(done - atLastSecond)); // the last, part of a second
                  }
                  return Math.max((now - first) / 1e9, 0.001);
                }
                if ((now - began) / 1e9 > limit) {
                  throw new IllegalStateException(
                      "backlog not drained after " + limit + " s: " + done + " of " + n);
                }
                if (now - logged > TimeUnit.SECONDS.toNanos(30)) {
                  Bench.log("  %,.0f of %,d succeeded", done, n);
                  logged = now;
                }
                // the drain's sampling; closer before the first finish, which starts the clock
                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(first == 0 ? 20 : 100));
              }
            },
            java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor());
    cluster.scaleWorkers(WORKERS);
    double seconds = sampling.join();
    figures.put("workersStartToFirstFinishSeconds", Bench.round((firstFinish.get() - began) / 1e9));
    figures.put("drainPerSecond", perSecond);
    figures.put("steadyCpu", steady.figures());
    Bench.log("backlog drain, jobs finished in each second from the first: %s", perSecond);
    return seconds;
  }

  private double statusTracker(String meter) {
    return cluster.metric("status-tracker", meter);
  }

  /** Samples each running process's heap until {@code done}, keeping the peaks. */
  private void watchHeaps(AtomicBoolean done) {
    while (!done.get()) {
      sampleHeaps();
      LockSupport.parkNanos(heapSampling.toNanos()); // the heap's sampling interval
    }
    sampleHeaps();
  }

  private void sampleHeaps() {
    cluster
        .httpUris(cluster.processes())
        .forEach(
            (name, uri) -> {
              Map<String, Double> peak =
                  peaks.computeIfAbsent(name, k -> new ConcurrentHashMap<>());
              read(uri, "jvm.memory.used?tag=area:heap", "VALUE")
                  .ifPresent(v -> peak.merge("heapUsed", v, Math::max));
              read(uri, "jvm.gc.live.data.size", "VALUE")
                  .ifPresent(v -> peak.merge("liveDataAfterGc", v, Math::max));
            });
  }

  /**
   * Each process at the end: alive or not, the first OutOfMemoryError line of its log if any, its
   * heap limit, peak heap used, peak live data after a GC, and its GC pauses.
   */
  private Map<String, Object> processes() {
    Map<String, URI> uris = cluster.httpUris(cluster.processes());
    Map<String, Object> all = new LinkedHashMap<>();
    for (ManagedProcess p : cluster.processes()) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("alive", p.isAlive());
      String oom = outOfMemoryLine(p.log());
      if (oom != null) {
        m.put("outOfMemory", oom);
      }
      URI uri = uris.get(p.name());
      Map<String, Double> peak = peaks.getOrDefault(p.name(), Map.of());
      read(uri, "jvm.memory.max?tag=area:heap", "VALUE")
          .ifPresent(v -> m.put("heapMaxMiB", mib(v)));
      m.put("heapUsedPeakMiB", mib(peak.getOrDefault("heapUsed", Double.NaN)));
      m.put("liveDataAfterGcPeakMiB", mib(peak.getOrDefault("liveDataAfterGc", Double.NaN)));
      read(uri, "jvm.gc.pause", "COUNT").ifPresent(v -> m.put("gcPauses", Math.round(v)));
      read(uri, "jvm.gc.pause", "TOTAL_TIME")
          .ifPresent(v -> m.put("gcPauseSeconds", Bench.round(v)));
      read(uri, "jvm.gc.pause", "MAX").ifPresent(v -> m.put("gcPauseMaxSeconds", v));
      all.put(p.name(), m);
    }
    return all;
  }

  private static double mib(double bytes) {
    return Bench.round(bytes / 1048576);
  }

  private static String outOfMemoryLine(Path log) {
    try (var lines = Files.lines(log)) {
      return lines.filter(l -> l.contains("OutOfMemoryError")).findFirst().orElse(null);
    } catch (IOException | UncheckedIOException e) {
      return null;
    }
  }

  /** One statistic (VALUE, COUNT, TOTAL_TIME, MAX) of a meter from the actuator, if it has it. */
  private static java.util.Optional<Double> read(URI base, String meter, String statistic) {
    if (base == null) {
      return java.util.Optional.empty();
    }
    try {
      var response =
          HTTP.send(
              HttpRequest.newBuilder(base.resolve("/actuator/metrics/" + meter))
                  .timeout(Duration.ofSeconds(10))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      if (response.statusCode() != 200) {
        return java.util.Optional.empty();
      }
      for (JsonNode m : Json.mapper().readTree(response.body()).path("measurements")) {
        if (m.path("statistic").asString("").equals(statistic)) {
          return java.util.Optional.of(m.path("value").asDouble());
        }
      }
      return java.util.Optional.empty();
    } catch (IOException e) {
      return java.util.Optional.empty();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return java.util.Optional.empty();
    }
  }

  /** The memory of each of this run's queues, as {@code rabbitmqctl list_queues} reports it. */
  static Map<String, Long> queueMemory(String prefix) {
    String json =
        Bench.command("rabbitmqctl", "list_queues", "name", "memory", "--formatter", "json");
    Map<String, Long> memory = new LinkedHashMap<>();
    try {
      for (JsonNode q : Json.mapper().readTree(json.substring(json.indexOf('[')))) {
        String name = q.path("name").asString("");
        if (name.startsWith(prefix + ".")) {
          memory.put(name, q.path("memory").asLong());
        }
      }
    } catch (RuntimeException e) {
      memory.put("unknown (" + e.getMessage() + ")", -1L);
    }
    return memory;
  }

  /** The soak's figures as a table. */
  static String table(JsonNode s) {
    StringBuilder t = new StringBuilder();
    t.append(
        String.format(
            "Backlog soak: %,d no-op jobs queued with no worker, drained by %d workers x %d:%n%n",
            s.path("jobs").asLong(), s.path("workers").asInt(), s.path("slotsPerWorker").asInt()));
    t.append("| figure | value |\n| --- | --- |\n");
    row(t, "queued (submit to all in the work queues)", rate(s, "queuedJobsPerSecond", "queue"));
    row(t, "drained (first to last finish)", rate(s, "drainJobsPerSecond", "drain"));
    row(t, "Redis used_memory per queued job", bytes(s.path("redisBytesPerQueuedJob")));
    row(t, "Redis used_memory per finished job", bytes(s.path("redisBytesPerFinishedJob")));
    row(t, "RabbitMQ queues' memory per queued job", bytes(s.path("rabbitQueueBytesPerQueuedJob")));
    row(
        t,
        "RabbitMQ resident memory per queued job (whole broker)",
        bytes(s.path("rabbitRssBytesPerQueuedJob")));
    row(
        t,
        "succeeded / dead",
        String.format("%,d / %,d", s.path("succeeded").asLong(), s.path("dead").asLong()));
    s.path("processes")
        .properties()
        .forEach(
            e -> {
              JsonNode p = e.getValue();
              row(
                  t,
                  "heap of " + e.getKey() + ": peak used / peak live after GC / max",
                  String.format(
                      "%.0f / %.0f / %.0f MiB; %d GC pauses, %.2f s in all; %s",
                      p.path("heapUsedPeakMiB").asDouble(),
                      p.path("liveDataAfterGcPeakMiB").asDouble(),
                      p.path("heapMaxMiB").asDouble(),
                      p.path("gcPauses").asLong(),
                      p.path("gcPauseSeconds").asDouble(),
                      !p.path("alive").asBoolean()
                          ? "**exited**"
                          : p.has("outOfMemory") ? "**OutOfMemoryError**" : "alive"));
            });
    row(t, "passed (all succeeded, no process out of heap)", s.path("passed").asBoolean() + "");
    if (s.has("error")) {
      row(t, "failed with", s.path("error").asString().replace('|', '/').replace('\n', ' '));
    }
    return t.toString();
  }

  private static String rate(JsonNode s, String field, String seconds) {
    return String.format(
        "%,.0f jobs/s (%,.0f s)", s.path(field).asDouble(), s.path(seconds + "Seconds").asDouble());
  }

  private static String bytes(JsonNode v) {
    return String.format("%,d B", v.asLong());
  }

  private static void row(StringBuilder t, String figure, String value) {
    t.append("| ").append(figure).append(" | ").append(value).append(" |\n");
  }
}
