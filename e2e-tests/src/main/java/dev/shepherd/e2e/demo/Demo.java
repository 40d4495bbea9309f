package dev.shepherd.e2e.demo;

import dev.shepherd.client.ShepherdClient;
import dev.shepherd.e2e.Cluster;
import dev.shepherd.e2e.RenderService;
import dev.shepherd.e2e.Stats;
import dev.shepherd.messaging.Topology;
import dev.shepherd.model.JobState;
import dev.shepherd.model.JobSubmission;
import dev.shepherd.model.JobView;
import dev.shepherd.model.Json;
import dev.shepherd.testsupport.RabbitCleanup;
import dev.shepherd.testsupport.RedisCleanup;
import dev.shepherd.testsupport.ServiceEndpoints;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import tools.jackson.databind.node.ObjectNode;

/**
 * Starts the four services and two workers as separate processes, plus a third worker that runs
 * {@value #RENDER} on a small HTTP service it starts ({@link RenderService}, the {@code http}
 * distributor, ADR 45), submits 200 demo jobs (site generations, renders, flaky and poison ones),
 * shows a live progress line and ends with a summary. Settings come from the environment: {@code
 * SHEPHERD_RABBITMQ_URI}, {@code SHEPHERD_REDIS_URI}, {@code DEMO_JOBS}, {@code DEMO_WORKERS}.
 */
public final class Demo {

  private static final Duration TIMEOUT = Duration.ofMinutes(5);

  /** The job type that runs on the HTTP service. */
  static final String RENDER = "demo.render";

  /** The pool of the worker that runs {@value #RENDER}. */
  static final String RENDER_POOL = "render";

  /** The callback key the scheduler and the render worker share; a demo's, never a real one. */
  private static final String DEMO_SERVER_KEY = "shepherd-demo-callback-key-not-for-production";

  private Demo() {}

  public static void main(String[] args) throws Exception {
    int jobs = Integer.parseInt(env("DEMO_JOBS", "200"));
    int workerCount = Integer.parseInt(env("DEMO_WORKERS", "2"));
    URI rabbit = URI.create(env("SHEPHERD_RABBITMQ_URI", "amqp://guest:guest@127.0.0.1:5672"));
    URI redis = URI.create(env("SHEPHERD_REDIS_URI", "redis://127.0.0.1:6379"));
    var endpoints = new ServiceEndpoints(rabbit, redis, "demo");
    String prefix = "demo" + Long.toString(System.currentTimeMillis(), 36);
    Path logDir = Cluster.repositoryRoot().resolve("build/demo");

    System.out.printf(
        "Starting scheduler, status-tracker, recovery and %d workers (logs in %s)...%n",
        workerCount, logDir);
    long started = System.nanoTime();
    var spec =
        new Cluster.Spec(
            Cluster.repositoryRoot(),
            prefix,
            endpoints.asSpringProperties(),
            workerCount,
            4,
            Map.of(
                "shepherd.store.retry-initial-backoff",
                "200ms",
                "shepherd.distribution.server-key",
                DEMO_SERVER_KEY),
            logDir);
    int exit = 0;
    try (RenderService renderer = new RenderService();
        Cluster cluster = Cluster.start(spec);
        ShepherdClient client = cluster.client().build()) {
      cluster.addWorker(
          Map.of(
              // a pool of its own: the default pool's workers have no handler for the type
              "shepherd.worker.pool",
              RENDER_POOL,
              "shepherd.worker.capacity",
              "16",
              "shepherd.distribution.callback-url",
              cluster.schedulerUri().toString(),
              "shepherd.distribution.types[" + RENDER + "].distributor",
              "http",
              "shepherd.distribution.types[" + RENDER + "].settings.endpoint",
              renderer.endpoint().toString(),
              "shepherd.distribution.types[" + RENDER + "].settings.infoUrl",
              renderer.endpoint() + "/{jobId}"));
      awaitAnnounced(client, RENDER);
      System.out.printf(
          "Cluster up in %.1f s; %s runs on the HTTP service at %s.%n",
          (System.nanoTime() - started) / 1e9, RENDER, renderer.endpoint());
      exit = run(client, jobs);
      cleanUp(endpoints, prefix);
    }
    System.exit(exit);
  }

  private static int run(ShepherdClient client, int jobs) throws Exception {
    Random random = new Random(7);
    List<String> ids = new ArrayList<>();
    Map<String, JobView> finished = new ConcurrentHashMap<>();
    List<CompletableFuture<JobView>> awaits = new ArrayList<>();
    long start = System.nanoTime();
    for (int i = 0; i < jobs; i++) {
      JobSubmission submission = demoJob(i, random);
      String id = client.submit(submission).jobId();
      ids.add(id);
      awaits.add(
          client
              .await(id, TIMEOUT)
              .whenComplete(
                  (v, e) -> {
                    if (v != null) {
                      finished.put(id, v);
                    }
                  }));
    }
    System.out.printf("Submitted %d jobs.%n", jobs);
    boolean tty = System.console() != null;
    CompletableFuture<Void> all = CompletableFuture.allOf(awaits.toArray(CompletableFuture[]::new));
    while (!all.isDone()) {
      printProgress(client, ids, finished, start, tty);
      try {
        all.get(tty ? 500 : 2_000, java.util.concurrent.TimeUnit.MILLISECONDS);
      } catch (java.util.concurrent.TimeoutException e) {
        // still running: print the next progress line
      } catch (java.util.concurrent.ExecutionException e) {
        break;
      }
    }
    printProgress(client, ids, finished, start, tty);
    System.out.println();
    double seconds = (System.nanoTime() - start) / 1e9;
    Stats stats = Stats.of(finished.values());
    printSummary(stats, jobs, finished.size(), seconds);
    return finished.size() == jobs ? 0 : 1;
  }

  /** Waits until a worker announced {@code type}, so its first submission is accepted. */
  private static void awaitAnnounced(ShepherdClient client, String type)
      throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofMinutes(1).toNanos();
    while (client.types().stream().noneMatch(t -> t.type().equals(type))) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException(
            "no worker announced " + type + " within a minute; see the worker logs in build/demo");
      }
      Thread.sleep(200); // polling the types listing; nothing pushes an announcement
    }
  }

  private static JobSubmission demoJob(int i, Random random) {
    ObjectNode payload = Json.mapper().createObjectNode();
    int kind = i % 20;
    if (kind < 2) {
      payload.put("mode", "succeed");
      return JobSubmission.of(RENDER, payload);
    } else if (kind < 12) {
      payload.put("site", "site-" + i + ".example");
      payload.put("phaseMillis", 50 + random.nextInt(100));
      return JobSubmission.of("site.generate", payload);
    } else if (kind < 17) {
      payload.put("failureProbability", 0.4);
      payload.put("workMillis", 20);
      return JobSubmission.of("demo.flaky", payload).withMaxAttempts(6);
    } else if (kind < 19) {
      return JobSubmission.of("demo.noop", payload);
    }
    payload.put("reason", "demo poison " + i);
    return JobSubmission.of("demo.poison", payload);
  }

  private static void printProgress(
      ShepherdClient client,
      List<String> ids,
      Map<String, JobView> finished,
      long start,
      boolean tty) {
    Map<JobState, Integer> counts = new EnumMap<>(JobState.class);
    for (String id : ids) {
      JobView done = finished.get(id);
      JobState state =
          done != null ? done.state() : client.get(id).map(JobView::state).orElse(null);
      if (state != null) {
        counts.merge(state, 1, Integer::sum);
      }
    }
    double seconds = (System.nanoTime() - start) / 1e9;
    StringBuilder line = new StringBuilder();
    line.append(String.format("[%5.1fs] ", seconds));
    counts.forEach((state, n) -> line.append(state).append('=').append(n).append(' '));
    line.append(
        String.format("| %.1f jobs/s finished", finished.size() / Math.max(seconds, 0.001)));
    if (tty) {
      System.out.print("\r" + line + "    ");
    } else {
      System.out.println(line);
    }
  }

  private static void printSummary(Stats stats, int submitted, int finished, double seconds) {
    System.out.println("Summary");
    System.out.println("+------------------------------+----------------+");
    row("jobs submitted", Integer.toString(submitted));
    row("jobs finished", Integer.toString(finished));
    row("succeeded", Integer.toString(stats.count(JobState.SUCCEEDED)));
    row("retried (attempts > 1)", Integer.toString(stats.retried()));
    row("dead", Integer.toString(stats.count(JobState.DEAD)));
    row("ran on the HTTP service", Integer.toString(stats.ranOnADistributor()));
    row("throughput", String.format("%.1f jobs/s", finished / seconds));
    row("submit-to-finish p50", stats.p50().toMillis() + " ms");
    row("submit-to-finish p99", stats.p99().toMillis() + " ms");
    stats
        .meanPhaseMillis()
        .forEach((phase, mean) -> row("mean " + phase, String.format("%.1f ms", mean)));
    System.out.println("+------------------------------+----------------+");
  }

  private static void row(String name, String value) {
    System.out.printf("| %-28s | %14s |%n", name, value);
  }

  private static void cleanUp(ServiceEndpoints endpoints, String prefix) {
    var pools =
        new java.util.HashMap<>(dev.shepherd.messaging.config.MessagingProperties.DEFAULT_POOLS);
    pools.put(RENDER_POOL, List.of(RENDER));
    var topology = new Topology(prefix, pools, 5);
    var rabbit = endpoints.newRabbitConnectionFactory();
    var redis = endpoints.newRedisConnectionFactory();
    try {
      RabbitCleanup.delete(rabbit, topology.queueNames(), topology.exchangeNames());
      RedisCleanup.deleteByPrefix(redis, prefix);
    } finally {
      rabbit.destroy();
      redis.destroy();
    }
  }

  private static String env(String name, String fallback) {
    String value = System.getenv(name);
    return value == null || value.isBlank() ? fallback : value;
  }
}
