package dev.shepherd.e2e.bench;

import dev.shepherd.e2e.Cluster;
import dev.shepherd.e2e.metrics.Scrape;
import dev.shepherd.model.Json;
import dev.shepherd.testsupport.ManagedProcess;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import org.springframework.data.redis.core.RedisCallback;
import org.springframework.data.redis.core.StringRedisTemplate;

/** Counters read before and after a run, so their difference is the run's cost. */
record Costs(
    double redisCommands,
    double redisRoundTrips,
    Map<String, Double> redisCallsByOp,
    Map<String, Double> redisCommandsByName,
    double published,
    double consumed,
    Map<String, Double> cpuSeconds,
    Map<String, Double> heapBytes,
    Map<String, Long> rssBytes) {

  static Costs measure(Cluster cluster, StringRedisTemplate redis) {
    Scrape scrape = Scrape.of(cluster.httpUris().values());
    Map<String, Double> cpu = new LinkedHashMap<>();
    Map<String, Double> heap = new LinkedHashMap<>();
    Map<String, Long> rss = new LinkedHashMap<>();
    for (ManagedProcess p : cluster.processes()) {
      String kind = p.name().startsWith("worker") ? "workers" : p.name();
      ProcessHandle.of(p.pid()).ifPresent(h -> cpu.merge(kind, cpuSecondsOf(h), Double::sum));
      rss.merge(kind, rss(p.pid()), Long::sum);
    }
    cluster
        .httpUris()
        .forEach(
            (name, uri) -> {
              Scrape one = Scrape.of(java.util.List.of(uri));
              heap.put(name, one.sum("jvm_memory_used_bytes", l -> "heap".equals(l.get("area"))));
            });
    Map<String, Double> commands = redisCommandsByName(redis);
    return new Costs(
        commands.values().stream().mapToDouble(Double::doubleValue).sum(),
        scrape.sum("shepherd_redis_calls_total"),
        scrape.sumBy("shepherd_redis_calls_total", "op"),
        commands,
        scrape.sum("shepherd_messages_published_total"),
        scrape.sum("shepherd_messages_consumed_total"),
        cpu,
        heap,
        rss);
  }

  /** The run's cost per job; {@code n} submissions were published by the bench itself. */
  Map<String, Object> perJob(Costs before, int n) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("redisCommandsPerJob", Bench.round((redisCommands - before.redisCommands) / n));
    m.put("redisRoundTripsPerJob", Bench.round((redisRoundTrips - before.redisRoundTrips) / n));
    m.put("redisCallsPerJobByOp", perJobBy(redisCallsByOp, before.redisCallsByOp, n));
    m.put(
        "redisCommandsPerJobByCommand",
        perJobBy(redisCommandsByName, before.redisCommandsByName, n));
    double durable = (published - before.published + n) / n;
    m.put("durableMessagesPerJob", Bench.round(durable));
    m.put("amqpPublishedPerJob", Bench.round(durable));
    m.put("amqpDeliveredPerJob", Bench.round((consumed - before.consumed) / n));
    Map<String, Object> cpu = new LinkedHashMap<>();
    cpuSeconds.forEach(
        (k, v) -> cpu.put(k, Bench.round((v - before.cpuSeconds.getOrDefault(k, 0.0)) * 1000 / n)));
    m.put("cpuSecondsPer1000Jobs", cpu);
    Map<String, Object> heapMiB = new LinkedHashMap<>();
    heapBytes.forEach((k, v) -> heapMiB.put(k, Bench.round(v / 1048576)));
    m.put("heapUsedMiBAtEnd", heapMiB);
    Map<String, Object> rssMiB = new LinkedHashMap<>();
    rssBytes.forEach((k, v) -> rssMiB.put(k, Bench.round(v / 1048576.0)));
    m.put("rssMiBAtEnd", rssMiB);
    return m;
  }

  /**
   * CPU seconds a process has used so far, user and system, as the OS counts them (on Linux the JDK
   * reads utime + stime from /proc/&lt;pid&gt;/stat); 0 once it is gone.
   */
  static double cpuSecondsOf(ProcessHandle process) {
    return process.info().totalCpuDuration().map(d -> d.toNanos() / 1e9).orElse(0.0);
  }

  /**
   * The CPU seconds so far of the machine's RabbitMQ ({@code beam.smp}) and Redis ({@code
   * redis-server}) processes, by {@code rabbitmq} and {@code redis}; a process whose command or CPU
   * time this user may not read is left out. The bench runs alone, so these are the broker and
   * Redis it uses.
   */
  static Map<String, Double> infrastructureCpuSeconds() {
    Map<String, Double> cpu = new TreeMap<>();
    ProcessHandle.allProcesses()
        .forEach(
            h -> {
              String command = h.info().command().orElse("");
              String name =
                  command.endsWith("/beam.smp") || command.equals("beam.smp")
                      ? "rabbitmq"
                      // Debian's redis-server is a link to redis-check-rdb, which /proc names
                      : command.endsWith("redis-server") || command.endsWith("redis-check-rdb")
                          ? "redis"
                          : null;
              if (name != null) {
                h.info()
                    .totalCpuDuration()
                    .ifPresent(d -> cpu.merge(name, d.toNanos() / 1e9, Double::sum));
              }
            });
    return cpu;
  }

  /** Each process's CPU seconds so far, by name: the samples of {@link SteadyCpu}. */
  static Map<String, Double> cpuSecondsByProcess(Cluster cluster) {
    Map<String, Double> cpu = new LinkedHashMap<>();
    for (ManagedProcess p : cluster.processes()) {
      ProcessHandle.of(p.pid()).ifPresent(h -> cpu.put(p.name(), cpuSecondsOf(h)));
    }
    return cpu;
  }

  /**
   * The growth of each counter per job, largest first, leaving out those that did not grow (a
   * counter that appeared during the run counts from zero).
   */
  static Map<String, Object> perJobBy(
      Map<String, Double> after, Map<String, Double> before, int n) {
    Map<String, Object> m = new LinkedHashMap<>();
    after.entrySet().stream()
        .map(e -> Map.entry(e.getKey(), (e.getValue() - before.getOrDefault(e.getKey(), 0.0)) / n))
        .filter(e -> e.getValue() > 0)
        .sorted(Map.Entry.<String, Double>comparingByValue().reversed())
        .forEach(e -> m.put(e.getKey(), Bench.round(e.getValue())));
    return m;
  }

  /**
   * Redis's calls per command since its start, from {@code INFO commandstats} (which counts the
   * commands run inside scripts too, and {@code evalsha} for the scripts themselves).
   */
  static Map<String, Double> redisCommandsByName(StringRedisTemplate redis) {
    Properties stats =
        redis.execute((RedisCallback<Properties>) c -> c.serverCommands().info("commandstats"));
    return commandStats(stats);
  }

  /**
   * {@code cmdstat_<name>: calls=N,usec=...} lines to calls by command name, summed over the nodes
   * of a Redis Cluster (whose keys Spring Data prefixes with {@code host:port.}).
   */
  static Map<String, Double> commandStats(Properties stats) {
    Map<String, Double> m = new TreeMap<>();
    for (String key : stats.stringPropertyNames()) {
      String value = stats.getProperty(key);
      int at = value.indexOf("calls=");
      String name = withoutNode(key);
      if (name.startsWith("cmdstat_") && at >= 0) {
        int end = value.indexOf(',', at);
        m.merge(
            name.substring("cmdstat_".length()),
            Double.parseDouble(value.substring(at + 6, end < 0 ? value.length() : end).trim()),
            Double::sum);
      }
    }
    return m;
  }

  /** {@code used_memory}, summed over the nodes of a Redis Cluster. */
  static long redisUsedMemory(StringRedisTemplate redis) {
    Properties memory =
        redis.execute((RedisCallback<Properties>) c -> c.serverCommands().info("memory"));
    long used = 0;
    for (String key : memory.stringPropertyNames()) {
      if (withoutNode(key).equals("used_memory")) {
        used += Long.parseLong(memory.getProperty(key).trim());
      }
    }
    return used;
  }

  /** An INFO field's name without a cluster node's {@code host:port.} in front. */
  private static String withoutNode(String key) {
    int colon = key.indexOf(':');
    int dot = key.indexOf('.', Math.max(colon, 0));
    return colon > 0 && dot > colon ? key.substring(dot + 1) : key;
  }

  /** RabbitMQ's resident memory, from {@code rabbitmqctl status}. */
  static long rabbitMemory() {
    String json = Bench.command("rabbitmqctl", "status", "--formatter", "json");
    try {
      return Json.mapper()
          .readTree(json.substring(json.indexOf('{')))
          .at("/memory/total/rss")
          .asLong();
    } catch (RuntimeException e) {
      return -1;
    }
  }

  private static long rss(long pid) {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
        if (line.startsWith("VmRSS:")) {
          return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
        }
      }
    } catch (Exception e) {
      return 0;
    }
    return 0;
  }
}
