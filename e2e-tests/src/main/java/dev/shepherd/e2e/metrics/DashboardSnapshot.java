package dev.shepherd.e2e.metrics;

import dev.shepherd.client.ShepherdClient;
import dev.shepherd.e2e.Cluster;
import dev.shepherd.messaging.Topology;
import dev.shepherd.messaging.config.MessagingProperties;
import dev.shepherd.model.JobSubmission;
import dev.shepherd.model.Json;
import dev.shepherd.testsupport.ManagedProcess;
import dev.shepherd.testsupport.RabbitCleanup;
import dev.shepherd.testsupport.RedisCleanup;
import dev.shepherd.testsupport.ServiceEndpoints;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicBoolean;
import javax.imageio.ImageIO;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.style.Styler;
import tools.jackson.databind.node.ObjectNode;

/**
 * Draws the dashboard's panels from a real run: starts the services and three workers, sends a
 * steady mix of jobs for a minute, kills one worker with SIGKILL half way, scrapes every service's
 * {@code /actuator/prometheus} every two seconds, and plots what the Grafana panels show (the same
 * metrics and the same rate and histogram_quantile arithmetic) into one PNG.
 *
 * <p>Run: {@code java -cp ... dev.shepherd.e2e.metrics.DashboardSnapshot docs/images/dashboard.png}
 */
public final class DashboardSnapshot {

  private static final int SECONDS = 70;
  private static final int KILL_AT = 30;
  private static final double JOBS_PER_SECOND = 30;

  private DashboardSnapshot() {}

  public static void main(String[] args) throws Exception {
    Path out = Path.of(args.length > 0 ? args[0] : "docs/images/dashboard.png");
    URI rabbit = URI.create(env("SHEPHERD_RABBITMQ_URI", "amqp://guest:guest@127.0.0.1:5672"));
    URI redis = URI.create(env("SHEPHERD_REDIS_URI", "redis://127.0.0.1:6379"));
    var endpoints = new ServiceEndpoints(rabbit, redis, "snapshot");
    String prefix = "snap" + Long.toString(System.currentTimeMillis(), 36);
    var spec =
        new Cluster.Spec(
            Cluster.repositoryRoot(),
            prefix,
            endpoints.asSpringProperties(),
            3,
            4,
            Map.of(
                "shepherd.store.lease-ttl", "6s",
                "shepherd.store.retry-initial-backoff", "200ms",
                "shepherd.store.worker-heartbeat", "2s",
                "shepherd.store.worker-lost-after", "60s"),
            Cluster.repositoryRoot().resolve("build/snapshot"));
    System.out.println("Starting the cluster...");
    try (Cluster cluster = Cluster.start(spec);
        ShepherdClient client = cluster.client().build()) {
      Map<String, List<double[]>> series = run(cluster, client);
      render(series, out);
      System.out.println("Wrote " + out.toAbsolutePath());
    } finally {
      var topology = new Topology(prefix, MessagingProperties.DEFAULT_POOLS, 5);
      var rabbitCf = endpoints.newRabbitConnectionFactory();
      var redisCf = endpoints.newRedisConnectionFactory();
      RabbitCleanup.delete(rabbitCf, topology.queueNames(), topology.exchangeNames());
      RedisCleanup.deleteByPrefix(redisCf, prefix);
      rabbitCf.destroy();
      redisCf.destroy();
    }
    System.exit(0);
  }

  private static Map<String, List<double[]>> run(Cluster cluster, ShepherdClient client)
      throws Exception {
    AtomicBoolean sending = new AtomicBoolean(true);
    Thread load =
        Thread.ofPlatform()
            .start(
                () -> {
                  Random random = new Random(3);
                  long next = System.nanoTime();
                  int i = 0;
                  while (sending.get()) {
                    client.submit(job(i++, random));
                    next += (long) (1e9 / JOBS_PER_SECOND);
                    long wait = next - System.nanoTime();
                    if (wait > 0) {
                      java.util.concurrent.locks.LockSupport.parkNanos(wait);
                    }
                  }
                });
    Map<String, List<double[]>> series = new LinkedHashMap<>();
    List<URI> services = new ArrayList<>(cluster.httpUris().values());
    long start = System.nanoTime();
    Scrape previous = Scrape.of(services);
    double previousAt = 0;
    boolean killed = false;
    while (true) {
      Thread.sleep(2_000); // the scrape interval of this run
      double t = (System.nanoTime() - start) / 1e9;
      if (!killed && t >= KILL_AT) {
        ManagedProcess victim = cluster.workers().get(0);
        victim.kill();
        killed = true;
        System.out.printf("[%4.0fs] killed %s with SIGKILL%n", t, victim.name());
      }
      if (t >= SECONDS && sending.get()) {
        sending.set(false);
        load.join();
      }
      Scrape now = Scrape.of(services);
      double dt = t - previousAt;
      rate(series, "succeeded/s", t, now, previous, "shepherd_jobs_succeeded_total", dt);
      rate(series, "retried/s", t, now, previous, "shepherd_jobs_retried_total", dt);
      rate(series, "dead/s", t, now, previous, "shepherd_jobs_dead_total", dt);
      rate(series, "submitted/s", t, now, previous, "shepherd_jobs_submitted_total", dt);
      point(series, "queue depth", t, now.sum("shepherd_queue_depth"));
      point(series, "outbox entries", t, now.sum("shepherd_outbox_size"));
      for (double q : new double[] {0.5, 0.99}) {
        point(
            series,
            "submit-to-start p" + (int) (q * 100),
            t,
            1000
                * Scrape.quantile(
                    q,
                    previous.buckets("shepherd_job_submit_to_start_seconds"),
                    now.buckets("shepherd_job_submit_to_start_seconds")));
      }
      for (var phase : List.of("bug_list_download", "dashboard_render", "publish")) {
        point(
            series,
            "phase " + phase,
            t,
            1000 * Scrape.quantile(0.5, phaseBuckets(previous, phase), phaseBuckets(now, phase)));
      }
      point(
          series,
          "workers active",
          t,
          now.sum("shepherd_workers", l -> "active".equals(l.get("state"))));
      point(series, "leases held", t, now.sum("shepherd_leases_held"));
      point(series, "leases expired (total)", t, now.sum("shepherd_leases_expired_total"));
      point(series, "stale reports (total)", t, now.sum("shepherd_status_stale_reports_total"));
      System.out.printf(
          "[%4.0fs] succeeded %.0f/s, queue %.0f, leases %.0f%n",
          t, last(series, "succeeded/s"), last(series, "queue depth"), last(series, "leases held"));
      previous = now;
      previousAt = t;
      if (!sending.get()
              && now.sum("shepherd_queue_depth") == 0
              && now.sum("shepherd_leases_held") == 0
          || t > SECONDS + 60) {
        break;
      }
    }
    return series;
  }

  private static TreeMap<Double, Double> phaseBuckets(Scrape scrape, String phase) {
    TreeMap<Double, Double> out = new TreeMap<>();
    for (var s : scrape.sumBy("shepherd_phase_duration_seconds_bucket", "le").entrySet()) {
      out.put(
          s.getKey().equals("+Inf") ? Double.POSITIVE_INFINITY : Double.parseDouble(s.getKey()),
          0.0);
    }
    out.replaceAll(
        (le, ignored) ->
            scrape.sum(
                "shepherd_phase_duration_seconds_bucket",
                l ->
                    phase.equals(l.get("phase"))
                        && (le.isInfinite()
                            ? "+Inf".equals(l.get("le"))
                            : !"+Inf".equals(l.get("le"))
                                && Double.parseDouble(l.get("le")) == le)));
    return out;
  }

  private static JobSubmission job(int i, Random random) {
    ObjectNode payload = Json.mapper().createObjectNode();
    int kind = i % 50;
    if (kind < 25) {
      return JobSubmission.of(
          "site.generate",
          payload.put("site", "s" + i + ".example").put("phaseMillis", 30 + random.nextInt(60)));
    } else if (kind < 35) {
      return JobSubmission.of(
              "demo.flaky", payload.put("failureProbability", 0.3).put("workMillis", 20))
          .withMaxAttempts(6);
    } else if (kind < 49) {
      return JobSubmission.of("demo.noop", payload);
    }
    return JobSubmission.of("demo.poison", payload);
  }

  private static void rate(
      Map<String, List<double[]>> series,
      String name,
      double t,
      Scrape now,
      Scrape before,
      String metric,
      double dt) {
    point(series, name, t, Math.max(0, (now.sum(metric) - before.sum(metric)) / dt));
  }

  private static void point(
      Map<String, List<double[]>> series, String name, double t, double value) {
    series.computeIfAbsent(name, k -> new ArrayList<>()).add(new double[] {t, value});
  }

  private static double last(Map<String, List<double[]>> series, String name) {
    List<double[]> points = series.get(name);
    return points == null || points.isEmpty() ? Double.NaN : points.get(points.size() - 1)[1];
  }

  private static void render(Map<String, List<double[]>> series, Path out) throws IOException {
    List<XYChart> panels = new ArrayList<>();
    panels.add(
        panel(
            "Throughput by outcome",
            "jobs/s",
            series,
            "submitted/s",
            "succeeded/s",
            "retried/s",
            "dead/s"));
    panels.add(panel("Queue depth and outbox", "jobs", series, "queue depth", "outbox entries"));
    panels.add(
        panel(
            "Submit-to-start latency", "ms", series, "submit-to-start p50", "submit-to-start p99"));
    panels.add(
        panel(
            "Phase duration p50",
            "ms",
            series,
            "phase bug_list_download",
            "phase dashboard_render",
            "phase publish"));
    panels.add(panel("Workers and leases", "count", series, "workers active", "leases held"));
    panels.add(
        panel(
            "Rogue-worker events (worker-1 killed at " + KILL_AT + " s)",
            "total",
            series,
            "leases expired (total)",
            "stale reports (total)"));
    int w = 640;
    int h = 320;
    BufferedImage image = new BufferedImage(w * 2, h * 3 + 40, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = image.createGraphics();
    g.setColor(new Color(24, 27, 31));
    g.fillRect(0, 0, image.getWidth(), image.getHeight());
    g.setColor(Color.WHITE);
    g.setFont(g.getFont().deriveFont(18f));
    g.drawString(
        "Shepherd: a real run scraped from /actuator/prometheus every 2 s (3 workers, "
            + (int) JOBS_PER_SECOND
            + " jobs/s offered)",
        12,
        26);
    for (int i = 0; i < panels.size(); i++) {
      BufferedImage panel = BitmapEncoder.getBufferedImage(panels.get(i));
      g.drawImage(panel, (i % 2) * w, 40 + (i / 2) * h, null);
    }
    g.dispose();
    Files.createDirectories(out.toAbsolutePath().getParent());
    ImageIO.write(image, "png", out.toFile());
  }

  private static XYChart panel(
      String title, String unit, Map<String, List<double[]>> series, String... names) {
    XYChart chart =
        new XYChartBuilder()
            .width(640)
            .height(320)
            .title(title)
            .xAxisTitle("seconds")
            .yAxisTitle(unit)
            .build();
    chart.getStyler().setTheme(new org.knowm.xchart.style.theme.GGPlot2Theme());
    chart.getStyler().setLegendPosition(Styler.LegendPosition.InsideNW);
    chart.getStyler().setMarkerSize(3);
    for (String name : names) {
      List<double[]> points = series.getOrDefault(name, List.of());
      List<Double> xs = new ArrayList<>();
      List<Double> ys = new ArrayList<>();
      for (double[] p : points) {
        if (!Double.isNaN(p[1])) {
          xs.add(p[0]);
          ys.add(p[1]);
        }
      }
      if (xs.isEmpty()) {
        xs.add(0.0);
        ys.add(0.0);
      }
      chart.addSeries(name, xs, ys);
    }
    return chart;
  }

  private static String env(String name, String fallback) {
    String value = System.getenv(name);
    return value == null || value.isBlank() ? fallback : value;
  }
}
