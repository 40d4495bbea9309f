package dev.shepherd.e2e.bench;

import dev.shepherd.e2e.Cluster;
import dev.shepherd.model.JobTimeouts;
import dev.shepherd.store.NewJob;
import dev.shepherd.store.Store;
import dev.shepherd.store.StoreSettings;
import dev.shepherd.testsupport.TestApiKeys;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.springframework.data.redis.core.StringRedisTemplate;

/**
 * The console with many jobs in Redis (issue 19: each page under 200 ms server time with 1,000,000
 * jobs; the live overview under 1 % CPU). Loads {@code jobs} jobs straight into Redis through the
 * store's own submit path ({@code Submissions.submitAll}, the script every submission runs), each
 * scheduled 30 days ahead so that no dispatcher publishes them, then times each page as a browser
 * asks for it (one request after the other on loopback, so the time is the scheduler's plus a
 * loopback round trip), and the scheduler's CPU over a window with one overview stream open against
 * the same window with none.
 */
final class ConsoleBench {

  /** One page of the console, and the path that asks for it. */
  record Page(String name, String path) {}

  /** The overview's push period ({@code ConsoleController.LIVE_EVERY}). */
  private static final int LIVE_EVERY_SECONDS = 5;

  private final Cluster cluster;
  private final StringRedisTemplate redis;
  private final String prefix;
  private final HttpClient http = HttpClient.newHttpClient();

  ConsoleBench(Cluster cluster, StringRedisTemplate redis, String prefix) {
    this.cluster = cluster;
    this.redis = redis;
    this.prefix = prefix;
  }

  /**
   * Loads {@code jobs} jobs, times each page {@code samples} times (after 3 unmeasured requests)
   * and the overview stream over {@code window}; the figures, also printed as a table.
   */
  Map<String, Object> run(int jobs, int samples, Duration window) throws Exception {
    Map<String, Object> figures = new LinkedHashMap<>();
    Store store =
        Store.of(
            redis,
            new StoreSettings(prefix, StoreSettings.DEFAULT_PARTITIONS, Duration.ofHours(1)),
            Clock.systemUTC(),
            new SimpleMeterRegistry());
    Instant later = Instant.now().plus(Duration.ofDays(30));
    long start = System.nanoTime();
    String middle = null;
    String last = null;
    int batch = 1_000;
    for (int done = 0; done < jobs; done += batch) {
      int n = Math.min(batch, jobs - done);
      List<NewJob> some = new ArrayList<>(n);
      for (int i = 0; i < n; i++) {
        some.add(
            new NewJob(
                "demo.noop",
                "default",
                "{\"n\":" + (done + i) + "}",
                null,
                later,
                3,
                null,
                JobTimeouts.NONE));
      }
      var stored = store.submissions().submitAll(some, null);
      if (stored.failure() != null) {
        throw stored.failure();
      }
      String id = stored.outcomes().getLast().jobId();
      if (middle == null && done + n >= jobs / 2) {
        middle = id;
      }
      last = id;
    }
    double loadSeconds = (System.nanoTime() - start) / 1e9;
    figures.put("jobs", jobs);
    figures.put("loadSeconds", Bench.round(loadSeconds));
    figures.put("loadJobsPerSecond", Bench.round(jobs / loadSeconds));
    Bench.log("console: %d jobs stored in %.1f s", jobs, loadSeconds);

    Object submittedAt = redis.opsForHash().get(store.keys().job(middle), "submittedAt");
    String deep = submittedAt + ":" + middle;
    List<Page> pages =
        List.of(
            new Page("overview", "/console"),
            new Page("jobs, first page", "/console/jobs"),
            new Page("jobs, half-way down the cursor", "/console/jobs?after=" + url(deep)),
            new Page("jobs, a type no job has (scans its window)", "/console/jobs?type=none"),
            new Page(
                "jobs, QUEUED of one pool (its index)", "/console/jobs?state=QUEUED&pool=default"),
            new Page("job", "/console/jobs/" + last),
            new Page("dead jobs", "/console/dead"));
    Map<String, Object> byPage = new LinkedHashMap<>();
    for (Page page : pages) {
      byPage.put(page.name(), time(page.path(), samples));
    }
    figures.put("pages", byPage);
    figures.put("overviewStream", overviewStreamCpu(window, samples * 4));
    print(figures);
    return figures;
  }

  private Map<String, Object> time(String path, int samples) throws Exception {
    HttpRequest request =
        HttpRequest.newBuilder(cluster.schedulerUri().resolve(path))
            .header("X-Api-Key", TestApiKeys.ADMIN_KEY)
            .GET()
            .build();
    for (int i = 0; i < 3; i++) {
      check(path, http.send(request, HttpResponse.BodyHandlers.ofString()));
    }
    List<Double> millis = new ArrayList<>();
    for (int i = 0; i < samples; i++) {
      long t0 = System.nanoTime();
      var response = http.send(request, HttpResponse.BodyHandlers.ofString());
      millis.add((System.nanoTime() - t0) / 1e6);
      check(path, response);
    }
    Collections.sort(millis);
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("path", path);
    m.put("samples", samples);
    m.put("medianMillis", Bench.round(millis.get(millis.size() / 2)));
    m.put("p95Millis", Bench.round(millis.get((int) Math.ceil(millis.size() * 0.95) - 1)));
    m.put("maxMillis", Bench.round(millis.getLast()));
    return m;
  }

  private static void check(String path, HttpResponse<String> response) {
    if (response.statusCode() != 200) {
      throw new IllegalStateException(path + " answered " + response.statusCode());
    }
  }

  /**
   * The scheduler's CPU over {@code window} with no console open, then over as long with one
   * overview stream open (as one browser tab keeps it), per minute.
   */
  private Map<String, Object> overviewStreamCpu(Duration window, int renders) throws Exception {
    double idle = schedulerCpuOver(window);
    AtomicInteger events = new AtomicInteger();
    HttpRequest request =
        HttpRequest.newBuilder(cluster.schedulerUri().resolve("/console/overview/events"))
            .header("X-Api-Key", TestApiKeys.ADMIN_KEY)
            .header("Accept", "text/event-stream")
            .GET()
            .build();
    var stream =
        http.sendAsync(request, HttpResponse.BodyHandlers.ofLines())
            .thenAccept(
                r ->
                    r.body()
                        .filter(line -> line.startsWith("event:"))
                        .forEach(line -> events.incrementAndGet()));
    double open;
    try {
      open = schedulerCpuOver(window);
    } finally {
      stream.cancel(true);
    }
    double perMinute = 60.0 / window.toSeconds();
    double perOverview = cpuPerOverview(idle / window.toSeconds(), renders);
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("windowSeconds", window.toSeconds());
    m.put("events", events.get());
    m.put("schedulerCpuSecondsPerMinuteIdle", Bench.round(idle * perMinute));
    m.put("schedulerCpuSecondsPerMinuteWithStream", Bench.round(open * perMinute));
    double extra = (open - idle) * perMinute;
    m.put("streamCpuSecondsPerMinute", Bench.round(extra));
    m.put("streamPercentOfOneCore", Bench.round(100.0 * extra / 60.0));
    // the difference of two noisy windows can hide a cost as small as this one: what one overview
    // costs, times the overviews a stream sends in a minute, says the same without the noise
    m.put("schedulerCpuMillisPerOverview", Bench.round(perOverview * 1000));
    m.put(
        "streamPercentOfOneCoreFromRenders",
        Bench.round(100.0 * perOverview * 60.0 / LIVE_EVERY_SECONDS / 60.0));
    return m;
  }

  /**
   * The scheduler's CPU seconds per overview: {@code renders} overviews asked back to back, less
   * the scheduler's idle CPU ({@code idlePerSecond}) over as long.
   */
  private double cpuPerOverview(double idlePerSecond, int renders) throws Exception {
    HttpRequest request =
        HttpRequest.newBuilder(cluster.schedulerUri().resolve("/console"))
            .header("X-Api-Key", TestApiKeys.ADMIN_KEY)
            .GET()
            .build();
    double before = schedulerCpu();
    long t0 = System.nanoTime();
    for (int i = 0; i < renders; i++) {
      check("/console", http.send(request, HttpResponse.BodyHandlers.ofString()));
    }
    double seconds = (System.nanoTime() - t0) / 1e9;
    double used = schedulerCpu() - before - idlePerSecond * seconds;
    return Math.max(0, used) / renders;
  }

  private double schedulerCpuOver(Duration window) throws Exception {
    double before = schedulerCpu();
    Thread.sleep(window.toMillis()); // a measuring window, not a wait for a condition
    return schedulerCpu() - before;
  }

  private double schedulerCpu() {
    return Costs.cpuSecondsByProcess(cluster).entrySet().stream()
        .filter(e -> e.getKey().contains("scheduler"))
        .mapToDouble(Map.Entry::getValue)
        .sum();
  }

  @SuppressWarnings("unchecked")
  private static void print(Map<String, Object> f) {
    StringBuilder t = new StringBuilder();
    t.append(String.format("%nconsole with %,d jobs in Redis%n", (Integer) f.get("jobs")));
    t.append(String.format("%-46s %10s %10s %10s%n", "page", "median ms", "p95 ms", "max ms"));
    ((Map<String, Map<String, Object>>) f.get("pages"))
        .forEach(
            (name, m) ->
                t.append(
                    String.format(
                        "%-46s %10s %10s %10s%n",
                        name, m.get("medianMillis"), m.get("p95Millis"), m.get("maxMillis"))));
    var s = (Map<String, Object>) f.get("overviewStream");
    t.append(
        String.format(
            "overview stream: %s events in %s s; scheduler CPU %s s/min idle, %s s/min with it:"
                + " %s s/min (%s %% of one core); %s ms of scheduler CPU per overview, so one"
                + " stream costs %s %% of one core%n",
            s.get("events"),
            s.get("windowSeconds"),
            s.get("schedulerCpuSecondsPerMinuteIdle"),
            s.get("schedulerCpuSecondsPerMinuteWithStream"),
            s.get("streamCpuSecondsPerMinute"),
            s.get("streamPercentOfOneCore"),
            s.get("schedulerCpuMillisPerOverview"),
            s.get("streamPercentOfOneCoreFromRenders")));
    System.out.print(t);
  }

  private static String url(String s) {
    return java.net.URLEncoder.encode(s, java.nio.charset.StandardCharsets.UTF_8);
  }
}
