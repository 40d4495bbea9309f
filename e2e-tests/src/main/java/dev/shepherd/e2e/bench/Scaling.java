package dev.shepherd.e2e.bench;

import dev.shepherd.e2e.Cluster;
import dev.shepherd.model.Json;
import dev.shepherd.testsupport.PrivateRabbit;
import dev.shepherd.testsupport.PrivateRabbitCluster;
import dev.shepherd.testsupport.PrivateRedis;
import dev.shepherd.testsupport.PrivateRedisCluster;
import dev.shepherd.testsupport.ServiceEndpoints;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * {@code make bench-scaling}: the same two measurements as {@code make bench-celery} (2 workers of
 * 4 slots: a live run and a backlog drained) on one Redis against a Redis Cluster, and on one
 * broker node against a three-node RabbitMQ cluster, every one of them private and started the same
 * way (Redis with AOF, {@code appendfsync everysec}; brokers without plugins), one after the other
 * on this machine. docs/SCALING.md quotes the table and extrapolates from it.
 *
 * <p>On one machine a cluster cannot add cores: its nodes share the same two as everything else.
 * What it measures is what clustering costs per job (replication, a router in the client, quorum
 * queues replicated three ways), which is what a deployment pays on every machine it adds.
 */
public final class Scaling {

  private Scaling() {}

  public static void main(String[] args) throws Exception {
    int jobs = args.length > 0 ? Integer.parseInt(args[0]) : 10_000;
    Path out =
        Cluster.repositoryRoot()
            .resolve("bench/results/scaling-" + Instant.now().toString().replace(':', '-'));
    Files.createDirectories(out);
    Map<String, Object> runs = new LinkedHashMap<>();
    runs.put(
        "1 Redis, 1 broker node",
        onOneBroker(jobs, out.resolve("single"), rabbit -> oneRedis(rabbit, jobs, out)));
    runs.put(
        "Redis Cluster: 3 masters, 1 broker node",
        onOneBroker(jobs, out.resolve("cluster-3"), rabbit -> onCluster(rabbit, 3, 0, jobs, out)));
    runs.put(
        "Redis Cluster: 3 masters + 3 replicas, 1 broker node",
        onOneBroker(
            jobs, out.resolve("cluster-3-3"), rabbit -> onCluster(rabbit, 3, 1, jobs, out)));
    try (var brokers = PrivateRabbitCluster.launch();
        var redis = PrivateRedis.launch()) {
      // every service connects to the first node (as behind one address); the quorum queues
      // replicate each message to all three
      var endpoints = endpoints(brokers.node(0), redis);
      runs.put(
          "1 Redis, 3 broker nodes",
          figures(
              Bench.run(Bench.Config.againstCelery(jobs), out.resolve("brokers-3"), endpoints)));
    }
    Map<String, Object> report = new LinkedHashMap<>();
    report.put("date", Instant.now().toString());
    report.put("commit", Bench.command("git", "rev-parse", "--short", "HEAD"));
    report.put("machine", Machine.describe());
    report.put("jobs", jobs);
    report.put("runs", runs);
    Files.writeString(
        out.resolve("scaling.json"),
        Json.mapper().writerWithDefaultPrettyPrinter().writeValueAsString(report));
    System.out.println(table(runs));
    System.out.println("Results: " + out.resolve("scaling.json"));
    System.exit(0);
  }

  private interface Run {
    Map<String, Object> on(PrivateRabbit rabbit) throws Exception;
  }

  private static Map<String, Object> onOneBroker(int jobs, Path out, Run run) throws Exception {
    try (var rabbit = PrivateRabbit.launch()) {
      return run.on(rabbit);
    }
  }

  private static Map<String, Object> oneRedis(PrivateRabbit rabbit, int jobs, Path out)
      throws Exception {
    try (var redis = PrivateRedis.launch()) {
      return figures(
          Bench.run(
              Bench.Config.againstCelery(jobs), out.resolve("single"), endpoints(rabbit, redis)));
    }
  }

  private static Map<String, Object> onCluster(
      PrivateRabbit rabbit, int masters, int replicas, int jobs, Path out) throws Exception {
    try (var redis = PrivateRedisCluster.launch(masters, replicas)) {
      var endpoints =
          new ServiceEndpoints(
                  URI.create("amqp://guest:guest@127.0.0.1:" + rabbit.port()),
                  URI.create("redis://127.0.0.1:1"),
                  "bench")
              .withRedisCluster(redis.addresses(), "private Redis Cluster");
      return figures(
          Bench.run(
              Bench.Config.againstCelery(jobs),
              out.resolve("cluster-" + masters + "-" + replicas),
              endpoints));
    }
  }

  /**
   * The bench's producers take the URI as it is ({@code ConnectionFactory.setUri}): without a path,
   * it names the default virtual host; {@code ServiceEndpoints.of}'s trailing slash would name an
   * empty one, which the broker refuses.
   */
  private static ServiceEndpoints endpoints(PrivateRabbit rabbit, PrivateRedis redis) {
    return new ServiceEndpoints(
        URI.create("amqp://guest:guest@127.0.0.1:" + rabbit.port()),
        URI.create("redis://127.0.0.1:" + redis.port()),
        "bench-scaling");
  }

  /** Jobs/s live and drained, and CPU per job: Shepherd's processes, then Redis and the broker. */
  @SuppressWarnings("unchecked")
  private static Map<String, Object> figures(Map<String, Object> results) {
    var shepherd =
        (Map<String, Object>) ((Map<String, Object>) results.get("againstCelery")).get("shepherd");
    var live = (Map<String, Object>) shepherd.get("live");
    var backlog = (Map<String, Object>) shepherd.get("backlog");
    var steady = (Map<String, Object>) live.get("steadyCpu");
    Map<String, Object> f = new LinkedHashMap<>();
    f.put("liveJobsPerSecond", live.get("jobsPerSecond"));
    f.put("backlogJobsPerSecond", backlog.get("drainJobsPerSecond"));
    f.put("shepherdCpuMicrosPerJob", steady.get("cpuMicrosPerJobAllProcesses"));
    f.put("infrastructureCpuMicrosPerJob", steady.get("infrastructureCpuMicrosPerJob"));
    return f;
  }

  private static String table(Map<String, Object> runs) {
    var t = new StringBuilder();
    t.append(
        "| deployment | live jobs/s | backlog jobs/s | Shepherd CPU µs/job | Redis CPU µs/job |"
            + " broker CPU µs/job |\n| --- | --- | --- | --- | --- | --- |\n");
    runs.forEach(
        (name, value) -> {
          @SuppressWarnings("unchecked")
          var f = (Map<String, Object>) value;
          @SuppressWarnings("unchecked")
          var infra =
              (Map<String, Object>)
                  f.getOrDefault("infrastructureCpuMicrosPerJob", Map.<String, Object>of());
          t.append("| ")
              .append(name)
              .append(" | ")
              .append(f.get("liveJobsPerSecond"))
              .append(" | ")
              .append(f.get("backlogJobsPerSecond"))
              .append(" | ")
              .append(f.get("shepherdCpuMicrosPerJob"))
              .append(" | ")
              .append(infra.get("redis"))
              .append(" | ")
              .append(infra.get("rabbitmq"))
              .append(" |\n");
        });
    return t.toString();
  }
}
