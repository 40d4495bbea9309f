package dev.shepherd.e2e.bench;

import dev.shepherd.client.ShepherdClient;
import dev.shepherd.e2e.Cluster;
import dev.shepherd.e2e.JvmOptions;
import dev.shepherd.messaging.Topology;
import dev.shepherd.messaging.config.MessagingProperties;
import dev.shepherd.model.JobEvent;
import dev.shepherd.model.JobState;
import dev.shepherd.model.JobSubmission;
import dev.shepherd.model.JobView;
import dev.shepherd.model.Json;
import dev.shepherd.model.TransitionRecord;
import dev.shepherd.store.JobQueries;
import dev.shepherd.store.Store;
import dev.shepherd.store.StoreSettings;
import dev.shepherd.testsupport.ManagedProcess;
import dev.shepherd.testsupport.RabbitCleanup;
import dev.shepherd.testsupport.RedisCleanup;
import dev.shepherd.testsupport.ServiceEndpoints;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.function.IntFunction;
import org.springframework.data.redis.core.StringRedisTemplate;

/**
 * {@code make bench} (and {@code make bench-quick}): starts the four services and N workers as
 * separate processes, measures the raw broker first, then Shepherd's throughput, latency, backlog,
 * rogue-worker recovery and cost per job, then Celery on the same broker and Redis, and writes
 * JSON, a table and plots. {@code make bench-celery} runs only what the comparison with Celery
 * needs.
 */
public final class Bench {

  /**
   * The sizes of one run.
   *
   * @param warmUpJobs the jobs run before anything is measured (JIT, connections, scripts)
   * @param throughputJobs the runs profiled (2 and 4 workers) and the scaling curve's; also the
   *     size of the live comparison with Celery
   * @param variantJobs the throughput runs over HTTP and with ordering keys (neither profiled)
   * @param celeryBacklogJobs the backlog both Shepherd and Celery drain in the comparison; when it
   *     equals {@code backlogJobs}, Shepherd's backlog scenario is its side of it
   * @param onlyAgainstCelery warm-up, the 2-worker throughput run and the comparison with Celery,
   *     nothing else
   * @param consoleJobs the jobs stored for the console's pages ({@link ConsoleBench})
   * @param consoleSamples requests timed per console page
   * @param consoleWindow how long the overview stream's CPU is measured (and as long without it)
   * @param idleWindow how long every process's CPU is read with no job to run, after the warm-up
   *     (zero: not measured)
   * @param latencyBase the rate, in jobs/s, whose quarter, half and three quarters the latency
   *     scenario offers; zero for the run's own measured throughput
   */
  public record Config(
      String mode,
      int rawMessages,
      int warmUpJobs,
      int throughputJobs,
      int variantJobs,
      Duration latencyMain,
      Duration latencySide,
      int backlogJobs,
      Duration defaultTtl,
      Duration shortTtl,
      int rogueJobs,
      int celeryBacklogJobs,
      boolean onlyAgainstCelery,
      int consoleJobs,
      int consoleSamples,
      Duration consoleWindow,
      Duration idleWindow,
      double latencyBase) {

    /**
     * This configuration with the latency scenario's loads taken as fractions of {@code
     * jobsPerSecond} instead of the run's own throughput, so two builds are compared at the same
     * offered rates.
     */
    public Config withLatencyBase(double jobsPerSecond) {
      return new Config(
          mode,
          rawMessages,
          warmUpJobs,
          throughputJobs,
          variantJobs,
          latencyMain,
          latencySide,
          backlogJobs,
          defaultTtl,
          shortTtl,
          rogueJobs,
          celeryBacklogJobs,
          onlyAgainstCelery,
          consoleJobs,
          consoleSamples,
          consoleWindow,
          idleWindow,
          jobsPerSecond);
    }

    public static Config full() {
      return new Config(
          "full",
          50_000,
          warmUpFor(20_000),
          20_000,
          20_000,
          Duration.ofSeconds(60),
          Duration.ofSeconds(20),
          100_000,
          Duration.ofSeconds(30),
          Duration.ofSeconds(3),
          6,
          20_000,
          false,
          1_000_000,
          50,
          Duration.ofSeconds(60),
          Duration.ofSeconds(30),
          0);
    }

    /** A small version of every scenario, for {@code make bench-quick} and the test. */
    public static Config quick() {
      return new Config(
          "quick",
          2_000,
          400, // JIT, connections and scripts: the quick figures are read by nobody
          2_400, // the profiled window (20 % to 90 %) must hold a few hundred samples per worker
          800, // profiled in no run: enough to write every figure
          Duration.ofSeconds(2),
          Duration.ofSeconds(1),
          1_000,
          Duration.ofSeconds(3),
          Duration.ofSeconds(2),
          2,
          1_000,
          false,
          3_000,
          10,
          Duration.ofSeconds(3),
          Duration.ofSeconds(2),
          0);
    }

    /**
     * The console's pages alone ({@code make bench-console}): {@code jobs} jobs stored, each page
     * timed 50 times, the overview stream's CPU over a minute.
     */
    public static Config consoleOnly(int jobs) {
      return new Config(
          "console",
          0,
          0,
          0,
          0,
          Duration.ZERO,
          Duration.ZERO,
          0,
          Duration.ZERO,
          Duration.ZERO,
          0,
          0,
          true,
          jobs,
          50,
          Duration.ofSeconds(60),
          Duration.ZERO,
          0);
    }

    /**
     * The latency scenario alone ({@code make bench-latency}): the 2-worker throughput run of
     * {@code jobs} jobs, then a steady load at a quarter, half and three quarters of its rate.
     */
    public static Config latencyOnly(int jobs) {
      return new Config(
          "latency",
          0,
          warmUpFor(jobs),
          jobs,
          0,
          Duration.ofSeconds(60),
          Duration.ofSeconds(20),
          0,
          Duration.ZERO,
          Duration.ZERO,
          0,
          0,
          true,
          0,
          0,
          Duration.ZERO,
          Duration.ZERO,
          0);
    }

    /** Shepherd against Celery only, both ways, with {@code jobs} jobs each way. */
    public static Config againstCelery(int jobs) {
      return new Config(
          "celery",
          0,
          warmUpFor(jobs),
          jobs,
          jobs,
          Duration.ZERO,
          Duration.ZERO,
          0,
          Duration.ZERO,
          Duration.ZERO,
          0,
          jobs,
          true,
          0,
          0,
          Duration.ZERO,
          Duration.ZERO,
          0);
    }

    /** The warm-up before a throughput run of {@code jobs}: half as many, at most 2,000. */
    private static int warmUpFor(int jobs) {
      return Math.min(2_000, jobs / 2);
    }
  }

  /** Workers and slots per worker of the throughput run compared with Celery, and of Celery. */
  static final int WORKERS = 2;

  static final int SLOTS_PER_WORKER = 8;

  /** The shipped JVM options ({@code deploy/jvm.options}) with the heap of the chart's pods. */
  static final List<String> JVM_ARGS = JvmOptions.deployment("-Xmx384m");

  private final Config config;
  private final Path out;
  private final ServiceEndpoints endpoints;
  private final Map<String, Object> results = new LinkedHashMap<>();
  private final Map<String, List<double[]>> throughputSeries = new LinkedHashMap<>();
  private final List<double[]> latencyByLoad = new ArrayList<>();
  private Cluster cluster;
  private ShepherdClient client;
  private StringRedisTemplate redis;
  private String prefix;

  Bench(Config config, Path out, ServiceEndpoints endpoints) {
    this.config = config;
    this.out = out;
    this.endpoints = endpoints;
  }

  /**
   * {@code --quick} for the small run, {@code --against-celery [jobs]} for the comparison with
   * Celery alone (20,000 jobs each way unless given), nothing for the full run.
   */
  public static void main(String[] args) throws Exception {
    List<String> arguments = List.of(args);
    boolean quick = arguments.contains("--quick");
    int against = arguments.indexOf("--against-celery");
    int console = arguments.indexOf("--console");
    int latency = arguments.indexOf("--latency");
    Config config = quick ? Config.quick() : Config.full();
    if (against >= 0) {
      boolean sized = arguments.size() > against + 1 && arguments.get(against + 1).matches("\\d+");
      config = Config.againstCelery(sized ? Integer.parseInt(arguments.get(against + 1)) : 20_000);
    }
    if (console >= 0) {
      boolean sized = arguments.size() > console + 1 && arguments.get(console + 1).matches("\\d+");
      config = Config.consoleOnly(sized ? Integer.parseInt(arguments.get(console + 1)) : 1_000_000);
    }
    if (latency >= 0) {
      boolean sized = arguments.size() > latency + 1 && arguments.get(latency + 1).matches("\\d+");
      config = Config.latencyOnly(sized ? Integer.parseInt(arguments.get(latency + 1)) : 20_000);
    }
    int at = arguments.indexOf("--at");
    if (at >= 0) {
      if (arguments.size() <= at + 1 || !arguments.get(at + 1).matches("\\d+(\\.\\d+)?")) {
        throw new IllegalArgumentException("--at takes a rate in jobs/s, e.g. --at 1136");
      }
      config = config.withLatencyBase(Double.parseDouble(arguments.get(at + 1)));
    }
    Path root = Cluster.repositoryRoot();
    Path out = quick ? root.resolve("build/bench-quick") : root.resolve("bench/results");
    var endpoints =
        new ServiceEndpoints(
            URI.create(env("SHEPHERD_RABBITMQ_URI", "amqp://guest:guest@127.0.0.1:5672")),
            URI.create(env("SHEPHERD_REDIS_URI", "redis://127.0.0.1:6379")),
            "bench");
    int repeat = arguments.indexOf("--repeat");
    int times = 1;
    if (repeat >= 0) {
      if (against < 0
          || arguments.size() <= repeat + 1
          || !arguments.get(repeat + 1).matches("[1-9]\\d*")) {
        throw new IllegalArgumentException(
            "--repeat k goes with --against-celery, e.g. --against-celery 20000 --repeat 3");
      }
      times = Integer.parseInt(arguments.get(repeat + 1));
    }
    List<Map<String, Object>> runs = new ArrayList<>();
    for (int i = 1; i <= times; i++) {
      if (times > 1) {
        log("against Celery: run %d of %d", i, times);
      }
      var bench = new Bench(config, out, endpoints);
      // --one-message-per-job: the steady loads' producer as before ADR 59, for comparison
      bench.steadyOneMessagePerJob = arguments.contains("--one-message-per-job");
      runs.add(bench.run());
      System.out.println("Results: " + runs.getLast().get("resultsFile"));
    }
    if (times > 1) {
      System.out.println(CeleryRepeats.summarize(runs, out));
    }
    System.exit(0);
  }

  /** Runs every scenario; returns the figures also written to {@code out}. */
  public static Map<String, Object> run(Config config, Path out, ServiceEndpoints endpoints)
      throws Exception {
    return new Bench(config, out, endpoints).run();
  }

  private Map<String, Object> run() throws Exception {
    Files.createDirectories(out);
    results.put("mode", config.mode());
    results.put("date", Instant.now().toString());
    results.put("commit", command("git", "rev-parse", "--short", "HEAD"));
    results.put("machine", Machine.describe());
    if (!config.onlyAgainstCelery()) {
      log("raw broker: %d persistent confirmed messages into a quorum queue", config.rawMessages());
      double raw = RawBroker.messagesPerSecond(endpoints.rabbitmq(), config.rawMessages(), 300);
      results.put("rawBrokerMessagesPerSecond", round(raw));
      log("raw broker: %.0f messages/s", raw);
    }

    var kube =
        new KubernetesMockServer(
            new Context(),
            new MockWebServer(),
            new HashMap<>(),
            new KubernetesCrudDispatcher(),
            false);
    kube.init();
    prefix = "bench" + Long.toString(System.currentTimeMillis(), 36);
    List<String> jvm = new ArrayList<>(JVM_ARGS);
    if (config.mode().equals("full")) {
      // one JFR recording per process, for the profile in docs/BENCHMARKS.md
      Files.createDirectories(out.resolve("jfr"));
      jvm.add(
          "-XX:StartFlightRecording=settings=profile,dumponexit=true,filename="
              + out.resolve("jfr")
              + "/");
    }
    jvm.add("-Dkubernetes.master=http://" + kube.getHostName() + ":" + kube.getPort());
    jvm.add("-Dkubernetes.auth.tryKubeConfig=false");
    jvm.add("-Dkubernetes.auth.tryServiceAccount=false");
    jvm.add("-Dkubernetes.namespace=bench");
    var spec =
        new Cluster.Spec(
            Cluster.repositoryRoot(),
            prefix,
            endpoints.asSpringProperties(),
            WORKERS,
            SLOTS_PER_WORKER,
            Map.of(
                "shepherd.recovery.pod-watch.enabled", "true",
                "shepherd.recovery.pod-watch.namespace", "bench",
                "shepherd.recovery.pod-watch.selector", "app.kubernetes.io/component=worker",
                "shepherd.store.retention", "1h"),
            logs());
    log("starting scheduler, status-tracker, recovery and 2 workers");
    var redisFactory = endpoints.newRedisConnectionFactory();
    redis = new StringRedisTemplate(redisFactory);
    try (KubernetesClient kubeClient = kube.createClient()) {
      // the quick run only keeps the code from rotting: its clusters start the fast way
      cluster =
          config.mode().equals("quick") ? Cluster.startFast(spec, jvm) : Cluster.start(spec, jvm);
      recordStartupCpu();
      client = cluster.client().build();
      if (config.mode().equals("console")) {
        log("console: %d jobs straight into Redis, then each page timed", config.consoleJobs());
        results.put(
            "console",
            new ConsoleBench(cluster, redis, prefix)
                .run(config.consoleJobs(), config.consoleSamples(), config.consoleWindow()));
        Files.writeString(
            out.resolve("console-" + results.get("commit") + ".json"),
            dev.shepherd.model.Json.mapper()
                .writerWithDefaultPrettyPrinter()
                .writeValueAsString(results));
        return results;
      }
      warmUp();
      idle();
      double two = throughput("2 workers");
      if (config.mode().equals("latency")) {
        latency(two);
        String stamp = ((String) results.get("date")).replaceAll("[:.]", "").substring(0, 15);
        Path json = out.resolve(stamp + "-" + results.get("commit") + "-latency.json");
        results.put("resultsFile", json.toString());
        Files.writeString(
            json,
            dev.shepherd.model.Json.mapper()
                .writerWithDefaultPrettyPrinter()
                .writeValueAsString(results));
        return results;
      }
      throughputOverHttp();
      if (!config.onlyAgainstCelery()) {
        cluster.addWorker();
        cluster.addWorker();
        recordStartupCpu();
        double four = throughput("4 workers");
        int keys = Math.max(1, config.variantJobs() / JOBS_PER_KEY);
        throughput(KEYED, config.variantJobs(), i -> keyedJob(i, keys));
        double best = Math.max(two, four);
        latency(best);
        curves(best);
        backlog();
      }
      shepherdBacklogAgainstCelery();
      if (!config.onlyAgainstCelery()) {
        rogue(kubeClient);
        // last: its jobs stay in Redis (scheduled 30 days ahead) until the prefix is deleted
        log("console: %d jobs straight into Redis, then each page timed", config.consoleJobs());
        results.put(
            "console",
            new ConsoleBench(cluster, redis, prefix)
                .run(config.consoleJobs(), config.consoleSamples(), config.consoleWindow()));
      }
    } finally {
      if (client != null) {
        client.close();
      }
      if (cluster != null) {
        cluster.close();
      }
      kube.destroy();
      var topology = new Topology(prefix, MessagingProperties.DEFAULT_POOLS, 5);
      var rabbit = endpoints.newRabbitConnectionFactory();
      RabbitCleanup.delete(rabbit, topology.queueNames(), topology.exchangeNames());
      rabbit.destroy();
      RedisCleanup.deleteByPrefix(redisFactory, prefix);
      redisFactory.destroy();
    }
    // after Shepherd's processes are gone, so that Celery has the machine as Shepherd had it
    againstCelery();
    Report.write(results, throughputSeries, latencyByLoad, out);
    return results;
  }

  private void warmUp() throws Exception {
    int n = config.warmUpJobs();
    log("warm-up: %d jobs (JIT, connections, scripts)", n);
    runJobs(n, null, null, () -> submitOverAmqp(n, Bench::noopJob));
  }

  /**
   * What every process costs with no job to run, after the warm-up: its CPU milliseconds per second
   * over {@link Config#idleWindow()} (heartbeats, recovery's passes, consumers' polls, gauges).
   */
  private void idle() {
    Duration window = config.idleWindow();
    if (window.isZero()) {
      return;
    }
    log("idle: every process's CPU over %s with no job", window);
    Map<String, Double> before = Costs.cpuSecondsByProcess(cluster);
    long start = System.nanoTime();
    LockSupport.parkNanos(window.toNanos()); // the measurement: nothing happens on purpose
    double seconds = (System.nanoTime() - start) / 1e9;
    Map<String, Object> perSecond = new LinkedHashMap<>();
    Costs.cpuSecondsByProcess(cluster)
        .forEach(
            (name, cpu) ->
                perSecond.put(
                    name, round((cpu - before.getOrDefault(name, 0.0)) * 1000 / seconds)));
    results.put("idle", Map.of("seconds", round(seconds), "cpuMillisPerSecond", perSecond));
    log("idle: CPU ms per second %s", perSecond);
  }

  /**
   * A job slower than this, submit to finish, counts in a latency load's slow seconds: the
   * half-load p99 target's bound, so the slow seconds are where the jobs that miss it were.
   */
  static final long SLOW_MILLIS = (long) Report.HALF_LOAD_P99_MILLIS;

  /** The keyed throughput run: 4 workers, every job with an ordering key shared by 20 jobs. */
  public static final String KEYED = "4 workers, ordering keys";

  /**
   * The throughput run whose jobs come over HTTP, from {@link #HTTP_PRODUCERS} producers each
   * sending one request after the other, with the 2 workers (ADR 36: single submissions share store
   * calls).
   */
  public static final String HTTP = "2 workers, over HTTP";

  /** Concurrent HTTP producers of the {@link #HTTP} run. */
  static final int HTTP_PRODUCERS = 32;

  /** Jobs per ordering key in the keyed run: each key's jobs run one after the other. */
  public static final int JOBS_PER_KEY = 20;

  private static JobSubmission noopJob(int i) {
    return JobSubmission.of("demo.noop", Json.mapper().createObjectNode());
  }

  /**
   * Job {@code i} of the keyed run, of {@code keys} keys: consecutive jobs go to different keys, as
   * a stream of events for many customers would.
   */
  private static JobSubmission keyedJob(int i, int keys) {
    return noopJob(i).withOrderingKey("bench-key-" + (i % keys));
  }

  private double throughput(String label) throws Exception {
    return throughput(label, config.throughputJobs(), Bench::noopJob);
  }

  /** Submits n jobs as fast as the submitter allows and waits for them all to succeed. */
  private double throughput(String label, int n, IntFunction<JobSubmission> job) throws Exception {
    return throughput(label, n, () -> submitOverAmqp(n, job));
  }

  /** The {@link #HTTP} run: the variants' jobs, each one REST request. */
  private double throughputOverHttp() throws Exception {
    int n = config.variantJobs();
    return throughput(HTTP, n, () -> submitOverHttp(n));
  }

  private double throughput(String label, int n, Runnable submitAll) throws Exception {
    log("throughput, %s: %d no-op jobs", label, n);
    Costs before = Costs.measure(cluster, redis);
    var steady = new SteadyCpu(n, () -> Costs.cpuSecondsByProcess(cluster));
    StageBudget budget = stageBudget(label, steady);
    double seconds = runJobs(n, label, steady, submitAll);
    Costs after = Costs.measure(cluster, redis);
    double rate = n / seconds;
    Map<String, Object> figures = new LinkedHashMap<>();
    figures.put("jobs", n);
    figures.put("seconds", round(seconds));
    figures.put("jobsPerSecond", round(rate));
    figures.put("cost", after.perJob(before, n));
    figures.put("steadyCpu", steady.figures());
    if (budget != null) {
      Map<String, Object> stages = budget.figures(steady.figures());
      figures.put("stageBudget", stages);
      log("  %s: profile samples %s", label, stages.getOrDefault("samples", stages));
    }
    @SuppressWarnings("unchecked")
    Map<String, Object> throughput =
        (Map<String, Object>) results.computeIfAbsent("throughput", k -> new LinkedHashMap<>());
    throughput.put(label, figures);
    log(
        "throughput, %s: %.0f jobs/s, %s CPU µs per job (all processes, steady window)",
        label, rate, steady.figures().getOrDefault("cpuMicrosPerJobAllProcesses", "no"));
    return rate;
  }

  /**
   * What each throughput run profiles in its steady window: CPU in the 2-worker run (the one
   * compared with Celery), allocations in the 4-worker run (async-profiler takes one event per text
   * profile); none in any other run, nor in {@code make bench-latency}.
   */
  static final Map<String, String> PROFILES = Map.of("2 workers", "cpu", "4 workers", "alloc");

  private Profiler profiler;

  /**
   * Profiles the steady window of a throughput run named in {@link #PROFILES}: the budget is fed by
   * {@code steady}'s edges. Null for a run that is not profiled, or where async-profiler cannot
   * load (the run goes on and says why).
   */
  private StageBudget stageBudget(String label, SteadyCpu steady) {
    String kind = PROFILES.get(label);
    // the flame graphs under bench/results/ are the full run's: the latency run keeps them
    if (kind == null || config.mode().equals("latency")) {
      return null;
    }
    try {
      if (profiler == null) {
        profiler = Profiler.extract(Files.createTempDirectory("shepherd-bench-profiler"));
      }
    } catch (Exception e) {
      results.put("profilerSkipped", "async-profiler not loaded: " + e.getMessage());
      log("throughput, %s: no profile (%s)", label, e.getMessage());
      return null;
    }
    // make bench-celery's graphs go to flame/celery/: flame/ keeps the full run's, which
    // docs/BENCHMARKS.md quotes
    Path flame = out.resolve(config.mode().equals("celery") ? "flame/celery" : "flame");
    StageBudget budget =
        new StageBudget(label, kind, cluster, profiler, flame, out.resolve("profiles"));
    budget.prepare();
    steady.withEdges(budget);
    return budget;
  }

  /**
   * Records the CPU each process spent starting (by kind of thread: JIT, GC, other), once per
   * process, before it runs any job; for the table's start-up rows, apart from the steady window.
   */
  @SuppressWarnings("unchecked")
  private void recordStartupCpu() {
    Map<String, Object> startup =
        (Map<String, Object>) results.computeIfAbsent("startupCpu", k -> new LinkedHashMap<>());
    List<ManagedProcess> fresh =
        cluster.processes().stream().filter(p -> !startup.containsKey(p.name())).toList();
    startup.putAll(StageBudget.startup(fresh));
  }

  /** Publishes n submissions to the submit exchange, confirmed in batches. */
  private void submitOverAmqp(int n, IntFunction<JobSubmission> job) {
    try (var submitter = new Submitter(endpoints.rabbitmq(), prefix)) {
      for (int i = 0; i < n; i++) {
        submitter.submit(job.apply(i));
      }
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  /** Sends n submissions as REST requests from {@link #HTTP_PRODUCERS} producers at once. */
  private void submitOverHttp(int n) {
    var next = new AtomicInteger();
    try (var producers = Executors.newVirtualThreadPerTaskExecutor()) {
      for (int p = 0; p < HTTP_PRODUCERS; p++) {
        producers.submit(
            () -> {
              while (next.getAndIncrement() < n) {
                client.submit(noopJob(0));
              }
            });
      }
    }
  }

  /**
   * Seconds from the first submit to the last SUCCEEDED; samples the rate for the plot and, given
   * one, the steady window's CPU.
   */
  private double runJobs(int n, String seriesName, SteadyCpu steady, Runnable submitAll)
      throws Exception {
    double baseline = succeeded();
    long start = System.nanoTime();
    var submitting = CompletableFuture.runAsync(submitAll);
    List<double[]> series = new ArrayList<>();
    double last = 0;
    double lastT = 0;
    while (true) {
      LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(500)); // the sampling interval
      double t = (System.nanoTime() - start) / 1e9;
      double done = succeeded() - baseline;
      if (steady != null) {
        steady.observe(done);
      }
      series.add(new double[] {t, (done - last) / (t - lastT)});
      last = done;
      lastT = t;
      if (done >= n) {
        break;
      }
      if (t > 600) {
        throw new IllegalStateException(
            "only " + done + " of " + n + " jobs succeeded in 10 minutes");
      }
      if (series.size() % 10 == 0) {
        log("  %.0f s: %.0f of %d succeeded", t, done, n);
      }
    }
    submitting.join();
    if (seriesName != null) {
      throughputSeries.put(seriesName, series);
    }
    return (System.nanoTime() - start) / 1e9;
  }

  /**
   * Jobs succeeded so far, read from one metric of the status-tracker and of each worker, where
   * they were applied (ADR 56); not a full scrape of every service, which would cost the services
   * more than the jobs being measured.
   */
  private double succeeded() {
    return cluster.succeeded();
  }

  /** The messages the scheduler took from its submit queue so far. */
  private double submitMessagesConsumed() {
    String queue = prefix + ".submit";
    return dev.shepherd.e2e.metrics.Scrape.of(List.of(cluster.httpUris().get("scheduler")))
        .sum("shepherd_messages_consumed_total", labels -> queue.equals(labels.get("queue")));
  }

  /** A steady offered load; exact percentiles from each job's own timestamps. */
  private void latency(double measured) throws Exception {
    Map<String, Object> byLoad = new LinkedHashMap<>();
    // a given base (--at) offers the same rates to every build compared; else the run's own rate
    double throughput = config.latencyBase() > 0 ? config.latencyBase() : measured;
    if (config.latencyBase() > 0) {
      log(
          "latency: loads are fractions of %.0f jobs/s (--at), not of this run's %.0f",
          throughput, measured);
    }
    results.put("latencyBaseJobsPerSecond", round(throughput));
    for (double fraction : new double[] {0.25, 0.5, 0.75}) {
      Duration duration = fraction == 0.5 ? config.latencyMain() : config.latencySide();
      double rate = throughput * fraction;
      // the floor: the broker alone carrying a job's two durable hops at this rate, unbatched
      Duration alone =
          duration.compareTo(Duration.ofSeconds(20)) < 0 ? duration : Duration.ofSeconds(20);
      Map<String, Object> brokerAlone = RawBroker.hopsAtRate(endpoints.rabbitmq(), rate, alone);
      logBrokerAlone("a job's two hops", rate, brokerAlone);
      // the one hop no submission path avoids: a work message per job (ADR 17)
      Map<String, Object> workHopAlone = RawBroker.hopsAtRate(endpoints.rabbitmq(), rate, alone, 1);
      logBrokerAlone("the work hop", rate, workHopAlone);
      log("latency: %.0f jobs/s (%.0f%% of throughput) for %s", rate, fraction * 100, duration);
      Costs costsBefore = Costs.measure(cluster, redis);
      double submitMessagesBefore = submitMessagesConsumed();
      Map<String, Double> cpuBefore = windowCpu();
      long start = System.nanoTime();
      List<String> ids = steady(rate, duration);
      double seconds = (System.nanoTime() - start) / 1e9;
      Map<String, Double> cpuAfter = windowCpu();
      List<JobView> jobs = fetchFinished(ids);
      double submitMessagesPerJob = (submitMessagesConsumed() - submitMessagesBefore) / ids.size();
      Map<String, Object> cost = Costs.measure(cluster, redis).perJob(costsBefore, ids.size());
      Latency l = Latency.of(jobs);
      Map<String, Object> figures = new LinkedHashMap<>();
      figures.put("offeredJobsPerSecond", round(rate));
      figures.put("seconds", duration.toSeconds());
      figures.put("jobs", jobs.size());
      figures.putAll(windowCost(cpuBefore, cpuAfter, ids.size(), seconds));
      figures.put("submitToStartMillis", l.start());
      figures.put("submitToFinishMillis", l.finish());
      figures.put("submitToStoredMillis", l.stored());
      figures.put("storedToStartMillis", l.storedToStart());
      // one stall or the load itself: where in the run the jobs over the p99 target's bound were
      Map<String, Object> slow = Latency.slowSeconds(jobs, SLOW_MILLIS);
      figures.put("slowJobsBySecond", slow);
      figures.put("brokerAlone", brokerAlone);
      figures.put("brokerWorkHopAlone", workHopAlone);
      // below 1 where submissions shared messages (ADR 59)
      figures.put("submitMessagesPerJob", round(submitMessagesPerJob));
      figures.put(
          "durableMessagesPerJob",
          round((double) cost.get("amqpPublishedPerJob") - 1 + submitMessagesPerJob));
      figures.put("redisRoundTripsPerJob", cost.get("redisRoundTripsPerJob"));
      figures.put("redisCommandsPerJob", cost.get("redisCommandsPerJob"));
      figures.put("redisCallsPerJobByOp", cost.get("redisCallsPerJobByOp"));
      byLoad.put(Integer.toString((int) (fraction * 100)) + "%", figures);
      latencyByLoad.add(
          new double[] {rate, l.finish().get("p50"), l.finish().get("p95"), l.finish().get("p99")});
      log(
          "latency at %.0f jobs/s: submit-to-finish p50 %.1f ms, p99 %.1f ms; submit-to-stored p50"
              + " %.1f ms, stored-to-start p50 %.1f ms; CPU µs per job %s (Shepherd %s), cores"
              + " busy %s",
          rate,
          l.finish().get("p50"),
          l.finish().get("p99"),
          l.stored().get("p50"),
          l.storedToStart().get("p50"),
          figures.get("cpuMicrosPerJobWithBrokerAndRedis"),
          figures.get("cpuMicrosPerJobShepherd"),
          figures.get("coresBusyShare"));
      log(
          "latency at %.0f jobs/s: %s jobs over %d ms, in %s of %s seconds (%s of them in the two"
              + " worst)",
          rate,
          slow.get("jobs"),
          SLOW_MILLIS,
          slow.get("seconds"),
          slow.get("ofSeconds"),
          slow.get("inWorstTwoSeconds"));
    }
    results.put("latency", byLoad);
  }

  private static void logBrokerAlone(String what, double rate, Map<String, Object> figures) {
    log(
        "latency: the broker alone, %s at %.0f jobs/s: %s µs per job, %s of a core, publish to"
            + " last delivery %s ms",
        what,
        rate,
        figures.get("rabbitmqCpuMicrosPerJob"),
        figures.get("rabbitmqShareOfACore"),
        figures.get("publishToLastDeliveryMillis"));
  }

  /** The CPU seconds so far of Shepherd's processes and of the broker and Redis, by name. */
  private Map<String, Double> windowCpu() {
    Map<String, Double> cpu = new LinkedHashMap<>(Costs.cpuSecondsByProcess(cluster));
    cpu.putAll(Costs.infrastructureCpuSeconds());
    return cpu;
  }

  /**
   * What a steady load's jobs cost while they were submitted: CPU µs per job of each process, of
   * Shepherd's processes together and of the broker and Redis, and how busy that kept the machine's
   * cores (a share of all of them, the bench's own submitter left out). A steady load is dearer per
   * job than the throughput run's flood, whose calls and messages carry many jobs each.
   */
  private static Map<String, Object> windowCost(
      Map<String, Double> before, Map<String, Double> after, int jobs, double seconds) {
    Map<String, Object> perJob = new LinkedHashMap<>();
    double shepherd = 0;
    double all = 0;
    for (var e : after.entrySet()) {
      double used = e.getValue() - before.getOrDefault(e.getKey(), 0.0);
      perJob.put(e.getKey(), round(used * 1e6 / jobs));
      all += used;
      if (!e.getKey().equals("rabbitmq") && !e.getKey().equals("redis")) {
        shepherd += used;
      }
    }
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("cpuMicrosPerJob", perJob);
    m.put("cpuMicrosPerJobShepherd", round(shepherd * 1e6 / jobs));
    m.put("cpuMicrosPerJobWithBrokerAndRedis", round(all * 1e6 / jobs));
    m.put("coresBusyShare", round(all / seconds / Runtime.getRuntime().availableProcessors()));
    return m;
  }

  /**
   * When the steady submitter published each submission, by its idempotency key: the latency
   * scenarios time a job from there, so the time it waited in the submit queue counts.
   */
  private final Map<String, Instant> publishedAt = new ConcurrentHashMap<>();

  /**
   * Publishes submissions over AMQP at a fixed rate for a while and returns their idempotency keys:
   * through the Java client without waiting for each ({@link ShepherdClient#submitViaAmqpAsync}:
   * what queues up behind a message's confirm shares the next message, ADR 59), or, with {@code
   * --one-message-per-job}, each as its own message as the throughput scenario submits (its
   * confirms awaited in batches).
   */
  private List<String> steady(double rate, Duration duration) throws Exception {
    List<String> keys = new ArrayList<>();
    long total = (long) (rate * duration.toMillis() / 1000.0);
    String run = prefix + "-steady-" + steadyRuns++ + "-";
    results.put(
        "steadyProducer",
        steadyOneMessagePerJob
            ? "one message per job, confirms awaited every " + RawBroker.CONFIRM_BATCH
            : "ShepherdClient.submitViaAmqpAsync (submissions waiting together share a message)");
    List<CompletableFuture<String>> confirms = new ArrayList<>();
    // only the producer the run uses is opened; try-with-resources skips the other, null
    try (Submitter submitter =
            steadyOneMessagePerJob ? new Submitter(endpoints.rabbitmq(), prefix) : null;
        ShepherdClient producer =
            steadyOneMessagePerJob
                ? null
                : ShepherdClient.builder().amqpUri(endpoints.rabbitmq()).prefix(prefix).build()) {
      Pacer pace = new Pacer(rate);
      for (long i = 0; i < total; i++) {
        pace.await();
        String key = run + i;
        publishedAt.put(key, Instant.now());
        JobSubmission job =
            JobSubmission.of("demo.noop", Json.mapper().createObjectNode()).withIdempotencyKey(key);
        if (steadyOneMessagePerJob) {
          submitter.submit(job);
        } else {
          confirms.add(producer.submitViaAmqpAsync(job));
        }
        keys.add(key);
      }
      CompletableFuture.allOf(confirms.toArray(CompletableFuture[]::new)).join();
    }
    return keys;
  }

  private int steadyRuns;

  /**
   * Whether the steady loads publish each submission as its own message (the bench's {@link
   * Submitter}, confirms awaited in batches) instead of through {@link
   * ShepherdClient#submitViaAmqpAsync}, whose submissions share a message when they wait together
   * (ADR 59).
   */
  private boolean steadyOneMessagePerJob;

  /**
   * The finished jobs of the steady submitter's keys, each with its submission time set to when it
   * was published (the job's own {@code submittedAt} is when the scheduler stored it). Read from
   * the store itself, as the scheduler's {@code GET /api/v1/jobs/by-key/{key}} and {@code GET
   * /api/v1/jobs/{id}} read them, without their HTTP: two requests per job took most of a latency
   * run's time (2 to 3 minutes for the half load's 40,000 jobs). A job not finished yet is read
   * again until it is, for at most 5 minutes.
   */
  private List<JobView> fetchFinished(List<String> keys) throws Exception {
    JobQueries queries =
        Store.of(
                redis,
                new StoreSettings(prefix, StoreSettings.DEFAULT_PARTITIONS, Duration.ofHours(1)),
                Clock.systemUTC(),
                new SimpleMeterRegistry())
            .queries();
    long deadline = System.nanoTime() + Duration.ofMinutes(5).toNanos();
    List<JobView> jobs = Collections.synchronizedList(new ArrayList<>());
    try (var pool = Executors.newFixedThreadPool(8)) {
      List<java.util.concurrent.Future<?>> reads = new ArrayList<>();
      for (String key : keys) {
        reads.add(
            pool.submit(
                () -> {
                  JobView job = finished(queries, key, deadline);
                  jobs.add(submittedAt(job, publishedAt.remove(key)));
                  return null;
                }));
      }
      for (var read : reads) {
        read.get();
      }
    }
    return jobs;
  }

  /** The job {@code key} made, once it finished; fails past {@code deadline} (nanoTime). */
  private static JobView finished(JobQueries queries, String key, long deadline)
      throws InterruptedException {
    while (true) {
      var job = queries.findIdByIdempotencyKey(key).flatMap(queries::find);
      if (job.isPresent() && job.get().state().isTerminal()) {
        return job.get();
      }
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException(
            "job of idempotency key "
                + key
                + (job.isPresent() ? " still " + job.get().state() : " not stored")
                + " after 5 minutes");
      }
      Thread.sleep(50);
    }
  }

  private static JobView submittedAt(JobView j, Instant published) {
    if (published == null) {
      return j;
    }
    return new JobView(
        j.id(),
        j.type(),
        j.pool(),
        j.state(),
        j.attempt(),
        j.maxAttempts(),
        j.payload(),
        j.idempotencyKey(),
        j.orderingKey(),
        j.concurrencyKey(),
        j.transactionId(),
        published,
        j.notBefore(),
        j.finishedAt(),
        j.workerId(),
        j.progressPercent(),
        j.progressMessage(),
        j.lastError(),
        j.cancelledBy(),
        j.cancelledAt(),
        j.traceId(),
        j.phases(),
        j.history(),
        j.tenant(),
        j.tasks());
  }

  /**
   * 100,000 jobs queued before any worker runs, then drained by 2 new workers: drain rate, memory
   * per job, heap (the same code as {@code make bench-soak}, {@link BacklogSoak}).
   */
  private void backlog() throws Exception {
    Map<String, Object> figures = drain(config.backlogJobs());
    figures.put("rabbitMemoryBytesWithBacklog", figures.get("rabbitRssQueued"));
    results.put("backlog", figures);
  }

  /** Queues n jobs with no worker running, then starts 2 workers and times the drain. */
  private Map<String, Object> drain(int n) throws Exception {
    Duration heapSampling = Duration.ofMillis(config.mode().equals("quick") ? 500 : 2_000);
    return BacklogSoak.run(cluster, redis, endpoints.rabbitmq(), n, heapSampling);
  }

  /**
   * Shepherd's side of the backlog comparison with Celery: the backlog scenario itself when it had
   * the comparison's size, else a backlog of that size.
   */
  private void shepherdBacklogAgainstCelery() throws Exception {
    int n = config.celeryBacklogJobs();
    Map<?, ?> drained;
    if (results.get("backlog") instanceof Map<?, ?> backlog && backlog.get("jobs").equals(n)) {
      drained = backlog;
    } else {
      log("against Celery: Shepherd's backlog of %d jobs", n);
      drained = drain(n);
      log("against Celery: Shepherd drained %.0f jobs/s", drained.get("drainJobsPerSecond"));
    }
    Map<String, Object> figures = new LinkedHashMap<>();
    figures.put("jobs", n);
    figures.put(
        "drainJobsPerSecond", round(((Number) drained.get("drainJobsPerSecond")).doubleValue()));
    for (String figure :
        List.of("workersStartToFirstFinishSeconds", "drainPerSecond", "steadyCpu")) {
      if (drained.containsKey(figure)) {
        figures.put(figure, drained.get(figure));
      }
    }
    side("shepherd").put("backlog", figures);
  }

  /**
   * Celery, measured the same two ways on the same broker and Redis with as many slots: a backlog
   * drained, and the live run of the 2-worker throughput scenario. Skipped, saying why, where
   * Debian's python3-celery or python3-redis is missing: {@code make bench} installs nothing.
   */
  private void againstCelery() {
    @SuppressWarnings("unchecked")
    Map<String, Object> throughputRuns = (Map<String, Object>) results.get("throughput");
    @SuppressWarnings("unchecked")
    Map<String, Object> two = (Map<String, Object>) throughputRuns.get("2 workers");
    Map<String, Object> shepherdLive = new LinkedHashMap<>();
    shepherdLive.put("jobs", two.get("jobs"));
    shepherdLive.put("jobsPerSecond", two.get("jobsPerSecond"));
    shepherdLive.put("steadyCpu", two.get("steadyCpu"));
    side("shepherd").put("live", shepherdLive);
    Map<String, Object> celery = side("celery");
    Celery.Check check = Celery.check(Cluster.repositoryRoot());
    if (check.skipped() != null) {
      celery.put("skipped", check.skipped());
      log("against Celery: SKIPPED. %s", check.skipped());
      return;
    }
    celery.put("versions", check.versions());
    log(
        "against Celery %s: %d workers x %d slots, a backlog of %d, then %d live",
        check.versions().get("celery"),
        WORKERS,
        SLOTS_PER_WORKER,
        config.celeryBacklogJobs(),
        config.throughputJobs());
    try (var c = new Celery(Cluster.repositoryRoot(), endpoints, prefix + "-celery", logs())) {
      celery.put("backlog", c.backlog(config.celeryBacklogJobs(), WORKERS, SLOTS_PER_WORKER));
      celery.put("live", c.live(config.throughputJobs()));
    }
    Map<String, Object> ratio = new LinkedHashMap<>();
    ratio.put(
        "backlog",
        round(
            rate(side("shepherd"), "backlog", "drainJobsPerSecond")
                / rate(celery, "backlog", "drainJobsPerSecond")));
    ratio.put(
        "live",
        round(
            rate(side("shepherd"), "live", "jobsPerSecond")
                / rate(celery, "live", "jobsPerSecond")));
    againstCeleryFigures().put("shepherdOverCelery", ratio);
  }

  private static double rate(Map<String, Object> side, String way, String figure) {
    return ((Number) ((Map<?, ?>) side.get(way)).get(figure)).doubleValue();
  }

  /** The comparison's figures: {@code againstCelery}, with its slots. */
  @SuppressWarnings("unchecked")
  private Map<String, Object> againstCeleryFigures() {
    return (Map<String, Object>)
        results.computeIfAbsent(
            "againstCelery",
            k -> {
              Map<String, Object> m = new LinkedHashMap<>();
              m.put("workers", WORKERS);
              m.put("slotsPerWorker", SLOTS_PER_WORKER);
              return m;
            });
  }

  /** One system's figures in the comparison: shepherd or celery. */
  @SuppressWarnings("unchecked")
  private Map<String, Object> side(String system) {
    return (Map<String, Object>)
        againstCeleryFigures().computeIfAbsent(system, k -> new LinkedHashMap<>());
  }

  private Path logs() {
    return out.resolve("logs");
  }

  /**
   * The scaling curve (jobs/s with 1, 2, 4, 8 workers; the 2- and 4-worker runs are the throughput
   * scenario's) and the load curve (latency at offered loads up to past saturation, with the
   * workers of the latency scenario). Leaves the fewest workers running.
   */
  private void curves(double best) throws Exception {
    var curves = new Curves(Curves.Plan.of(config.mode()), cluster);
    results.put("loadCurve", curves.loadCurve(best, this::steady, this::fetchFinished));
    @SuppressWarnings("unchecked")
    Map<String, Object> runs = (Map<String, Object>) results.get("throughput");
    results.put("scaling", curves.scaling(runs, this::throughput));
  }

  /** Time from a worker's SIGKILL, or its pod's deletion, to its jobs' re-dispatch. */
  private void rogue(KubernetesClient kube) throws Exception {
    cluster.scaleWorkers(0); // all at once: each waits for its worker's drain
    Map<String, Object> figures = new LinkedHashMap<>();
    figures.put("sigkillDefaultTtl", sigkill(config.defaultTtl()));
    figures.put("sigkillShortTtl", sigkill(config.shortTtl()));
    figures.put("podDeleted", podDeleted(kube));
    results.put("rogueRecovery", figures);
  }

  private Map<String, Object> sigkill(Duration ttl) throws Exception {
    ManagedProcess victim =
        cluster.addWorker(Map.of("shepherd.store.lease-ttl", ttl.toMillis() + "ms"));
    List<String> ids = heldBy(victim);
    Instant killed = Instant.now();
    victim.kill();
    log("rogue: killed %s holding %d jobs (lease TTL %s)", victim.name(), ids.size(), ttl);
    return redispatch(ids, killed, ttl);
  }

  /**
   * The victim's lease TTL when its pod is deleted: far longer than any figure this scenario
   * reports, so only the pod watch, never lease expiry, can explain a re-dispatch.
   */
  static final Duration POD_DELETED_LEASE_TTL = Duration.ofMinutes(10);

  private Map<String, Object> podDeleted(KubernetesClient kube) throws Exception {
    String pod = "bench-worker-pod";
    kube.pods()
        .inNamespace("bench")
        .resource(
            new PodBuilder()
                .withNewMetadata()
                .withName(pod)
                .withNamespace("bench")
                .addToLabels("app.kubernetes.io/component", "worker")
                .endMetadata()
                .build())
        .create();
    ManagedProcess victim =
        cluster.addWorker(
            Map.of(
                "shepherd.worker.pod-name",
                pod,
                "shepherd.worker.capacity",
                "64",
                "shepherd.store.lease-ttl",
                POD_DELETED_LEASE_TTL.toMillis() + "ms"));
    List<String> ids = heldBy(victim);
    Instant deleted = Instant.now();
    kube.pods().inNamespace("bench").withName(pod).delete();
    log(
        "rogue: deleted pod %s of %s holding %d jobs (lease TTL %s)",
        pod, victim.name(), ids.size(), POD_DELETED_LEASE_TTL);
    Map<String, Object> figures = redispatch(ids, deleted, Duration.ZERO);
    victim.kill();
    figures.put("leaseTtlSeconds", (double) POD_DELETED_LEASE_TTL.toSeconds());
    // the release names its cause: "pod <name> deleted (worker ..., attempt ...)"
    figures.put(
        "releasedByPodWatch",
        ids.stream()
            .filter(
                id ->
                    client.get(id).orElseThrow().history().stream()
                        .anyMatch(
                            h ->
                                h.event() == JobEvent.LEASE_EXPIRED
                                    && h.reason() != null
                                    && h.reason().startsWith("pod " + pod + " ")))
            .count());
    return figures;
  }

  /**
   * Submits long jobs and waits until the victim (the only worker left) holds them all. No other
   * worker runs: re-dispatch is the moment the job is published again, whoever claims it later.
   */
  private List<String> heldBy(ManagedProcess victim) throws Exception {
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < config.rogueJobs(); i++) {
      var payload =
          Json.mapper().createObjectNode().put("site", "rogue" + i).put("phaseMillis", 600_000);
      ids.add(client.submit(JobSubmission.of("site.generate", payload)).jobId());
    }
    List<String> victims = new ArrayList<>();
    long start = System.nanoTime();
    while (victims.size() < ids.size() && (System.nanoTime() - start) / 1e9 < 120) {
      victims.clear();
      for (String id : ids) {
        JobView job = client.get(id).orElseThrow();
        if (job.state() == JobState.RUNNING && victim.name().equals(job.workerId())) {
          victims.add(id);
        }
      }
      LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(200)); // polling the claims
    }
    return victims;
  }

  private Map<String, Object> redispatch(List<String> ids, Instant from, Duration ttl) {
    List<Double> seconds = new ArrayList<>();
    long start = System.nanoTime();
    for (String id : ids) {
      while ((System.nanoTime() - start) / 1e9 < ttl.toSeconds() + 120) {
        JobView job = client.get(id).orElseThrow();
        TransitionRecord reclaim =
            job.history().stream()
                .filter(h -> h.event() == JobEvent.DISPATCH && h.attempt() >= 2)
                .findFirst()
                .orElse(null);
        if (reclaim != null) {
          seconds.add(Duration.between(from, reclaim.at()).toMillis() / 1000.0);
          break;
        }
        LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(50)); // polling the re-claim
      }
    }
    Map<String, Object> figures = new LinkedHashMap<>();
    figures.put("leaseTtlSeconds", ttl.toMillis() / 1000.0);
    figures.put("jobs", ids.size());
    figures.put("redispatched", seconds.size());
    figures.put("maxSeconds", seconds.stream().mapToDouble(d -> d).max().orElse(Double.NaN));
    figures.put(
        "meanSeconds", round(seconds.stream().mapToDouble(d -> d).average().orElse(Double.NaN)));
    log(
        "rogue: %d of %d re-dispatched, max %.2f s",
        seconds.size(), ids.size(), figures.get("maxSeconds"));
    return figures;
  }

  static double round(double v) {
    return Math.round(v * 100) / 100.0;
  }

  static void log(String format, Object... args) {
    System.out.printf(
        "[%s] %s%n",
        DateTimeFormatter.ofPattern("HH:mm:ss").withZone(ZoneOffset.UTC).format(Instant.now()),
        String.format(format, args));
  }

  static String command(String... command) {
    try {
      Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes()).trim();
      p.waitFor(30, TimeUnit.SECONDS);
      return out;
    } catch (Exception e) {
      return "unknown (" + e.getMessage() + ")";
    }
  }

  private static String env(String name, String fallback) {
    String value = System.getenv(name);
    return value == null || value.isBlank() ? fallback : value;
  }
}
