package dev.shepherd.e2e.bench;

import dev.shepherd.e2e.Cluster;
import dev.shepherd.e2e.JvmOptions;
import dev.shepherd.model.Json;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.lang.management.ManagementFactory;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.IntConsumer;
import org.springframework.data.redis.connection.RedisStandaloneConfiguration;
import org.springframework.data.redis.connection.ReturnType;
import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;
import org.springframework.data.redis.core.RedisCallback;
import org.springframework.data.redis.core.StringRedisTemplate;
import redis.clients.jedis.JedisPooled;

/**
 * What one Redis script call costs the calling process at a steady trickle, made the way Shepherd's
 * services make it (Spring Data Redis over Lettuce: the call handed to Lettuce's event loop, which
 * writes it and wakes again for the reply) against a blocking client that writes and reads on the
 * calling thread (Jedis). Eight threads take turns, as a worker's slots do, each call an {@code
 * EVALSHA} of a two-command script; each client runs in a JVM of its own started with the services'
 * options ({@code deploy/jvm.options}), so that the process's CPU per call is that client's alone.
 * {@code make bench-redis-calls}; docs/BENCHMARKS.md quotes it. Nothing in Shepherd uses Jedis:
 * this measures whether it should.
 */
public final class RedisCalls {

  private static final String SCRIPT =
      "local n = redis.call('HINCRBY', KEYS[1], 'n', 1) redis.call('HSET', KEYS[1], 'at', ARGV[1])"
          + " return n";

  /** Keys the calls spread over, as a job's calls touch different jobs' hashes. */
  private static final int KEYS = 64;

  private static final int SLOTS = 8;

  private static final List<String> CLIENTS = List.of("lettuce", "jedis");

  private RedisCalls() {}

  /**
   * {@code RedisCalls [rate ...]}: both clients at each rate (calls a second; 200 and 742 unless
   * given), 20 s each, twice in alternation; the figures go to bench/results/.
   */
  public static void main(String[] args) throws Exception {
    if (args.length > 0 && args[0].equals("--one")) {
      one(
          args[1],
          Double.parseDouble(args[2]),
          Duration.ofSeconds(Long.parseLong(args[3])),
          args[4]);
      System.exit(0);
    }
    List<Double> rates = new ArrayList<>();
    for (String a : args) {
      rates.add(Double.parseDouble(a));
    }
    if (rates.isEmpty()) {
      rates = List.of(200.0, 742.0);
    }
    URI redis =
        URI.create(System.getenv().getOrDefault("SHEPHERD_REDIS_URI", "redis://127.0.0.1:6379"));
    List<Map<String, Object>> runs = compare(redis, rates, Duration.ofSeconds(20), 2);
    Map<String, Object> results = new LinkedHashMap<>();
    results.put("mode", "redis-calls");
    results.put("date", Instant.now().toString());
    results.put("commit", Bench.command("git", "rev-parse", "--short", "HEAD"));
    results.put("machine", Machine.describe());
    results.put("runs", runs);
    Path out = Cluster.repositoryRoot().resolve("bench/results");
    Files.createDirectories(out);
    String stamp =
        DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HHmm")
            .withZone(ZoneOffset.UTC)
            .format(Instant.now());
    Path file = out.resolve(stamp + "-" + results.get("commit") + "-redis-calls.json");
    Files.writeString(
        file, Json.mapper().writerWithDefaultPrettyPrinter().writeValueAsString(results));
    System.out.println("Results: " + file);
    System.exit(0);
  }

  /**
   * Runs each client at each rate for {@code duration}, {@code rounds} times in alternation, each
   * in a new JVM; returns one figure set per run, in run order.
   */
  public static List<Map<String, Object>> compare(
      URI redis, List<Double> rates, Duration duration, int rounds) throws Exception {
    List<Map<String, Object>> runs = new ArrayList<>();
    String java = ProcessHandle.current().info().command().orElse("java");
    for (int round = 0; round < rounds; round++) {
      for (double rate : rates) {
        for (String client : CLIENTS) {
          List<String> command = new ArrayList<>();
          command.add(java);
          command.addAll(JvmOptions.deployment("-Xmx128m"));
          command.add("-Dorg.slf4j.simpleLogger.defaultLogLevel=warn");
          command.add("-cp");
          command.add(System.getProperty("java.class.path"));
          command.add(RedisCalls.class.getName());
          command.addAll(
              List.of(
                  "--one",
                  client,
                  Double.toString(rate),
                  Long.toString(duration.toSeconds()),
                  redis.toString()));
          Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
          String figures = null;
          StringBuilder output = new StringBuilder();
          try (var lines =
              new BufferedReader(
                  new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            for (String line = lines.readLine(); line != null; line = lines.readLine()) {
              output.append(line).append('\n');
              if (line.startsWith("{")) {
                figures = line;
              }
            }
          }
          if (p.waitFor() != 0 || figures == null) {
            throw new IllegalStateException(
                "the " + client + " probe at " + rate + " calls/s failed:\n" + output);
          }
          @SuppressWarnings("unchecked")
          Map<String, Object> run = Json.mapper().readValue(figures, LinkedHashMap.class);
          System.out.printf(
              "[redis calls] %s at %.0f calls/s: %s µs of process CPU per call%n",
              client, rate, run.get("cpuMicrosPerCall"));
          runs.add(run);
        }
      }
    }
    return runs;
  }

  /** One client at one rate in this JVM: prints its figures as one JSON line. */
  private static void one(String client, double rate, Duration duration, String redis)
      throws Exception {
    URI uri = URI.create(redis);
    String prefix = "shepherd-redis-calls-" + UUID.randomUUID() + ":";
    IntConsumer call;
    AutoCloseable close;
    Runnable cleanUp;
    if (client.equals("lettuce")) {
      var factory =
          new LettuceConnectionFactory(
              new RedisStandaloneConfiguration(uri.getHost(), uri.getPort()));
      factory.afterPropertiesSet();
      factory.start();
      var template = new StringRedisTemplate(factory);
      String sha =
          template.execute(
              (RedisCallback<String>)
                  c -> c.scriptingCommands().scriptLoad(SCRIPT.getBytes(StandardCharsets.UTF_8)));
      call =
          i ->
              template.execute(
                  (RedisCallback<Object>)
                      c ->
                          c.scriptingCommands()
                              .evalSha(
                                  sha,
                                  ReturnType.INTEGER,
                                  1,
                                  (prefix + (i % KEYS)).getBytes(StandardCharsets.UTF_8),
                                  Integer.toString(i).getBytes(StandardCharsets.UTF_8)));
      cleanUp = () -> template.delete(keys(prefix));
      close = factory::destroy;
    } else if (client.equals("jedis")) {
      var jedis = new JedisPooled(uri.getHost(), uri.getPort());
      String sha = jedis.scriptLoad(SCRIPT);
      call = i -> jedis.evalsha(sha, List.of(prefix + (i % KEYS)), List.of(Integer.toString(i)));
      cleanUp = () -> jedis.del(keys(prefix).toArray(String[]::new));
      close = jedis;
    } else {
      throw new IllegalArgumentException("no client " + client + ": lettuce or jedis");
    }
    var os =
        (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
    ExecutorService slots = Executors.newFixedThreadPool(SLOTS);
    try {
      // JIT and connections first, as the bench's warm-up does
      int warmUp = (int) Math.min(2_000, Math.max(100, rate * 2));
      for (int i = 0; i < warmUp; i++) {
        int k = i;
        slots.submit(() -> call.accept(k)).get();
      }
      long total = Math.max(1, (long) (rate * duration.toMillis() / 1000.0));
      CountDownLatch done = new CountDownLatch((int) total);
      long cpuBefore = os.getProcessCpuTime();
      long began = System.nanoTime();
      Pacer pace = new Pacer(rate);
      for (int i = 0; i < total; i++) {
        pace.await();
        int k = i;
        slots.execute(
            () -> {
              call.accept(k);
              done.countDown();
            });
      }
      done.await();
      double seconds = (System.nanoTime() - began) / 1e9;
      long cpu = os.getProcessCpuTime() - cpuBefore;
      Map<String, Object> figures = new LinkedHashMap<>();
      figures.put("client", client);
      figures.put("callsPerSecond", rate);
      figures.put("calls", total);
      figures.put("seconds", Math.round(seconds * 10) / 10.0);
      figures.put("cpuMicrosPerCall", Math.round(cpu / 1e3 / total * 10) / 10.0);
      figures.put("shareOfACore", Math.round(cpu / 1e9 / seconds * 1000) / 1000.0);
      System.out.println(Json.mapper().writeValueAsString(figures));
    } finally {
      slots.shutdownNow();
      cleanUp.run();
      close.close();
    }
  }

  private static List<String> keys(String prefix) {
    List<String> keys = new ArrayList<>(KEYS);
    for (int i = 0; i < KEYS; i++) {
      keys.add(prefix + i);
    }
    return keys;
  }
}
