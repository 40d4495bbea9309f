package dev.shepherd.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.shepherd.messaging.Topology;
import dev.shepherd.messaging.config.MessagingProperties;
import dev.shepherd.testsupport.RabbitCleanup;
import dev.shepherd.testsupport.RedisCleanup;
import dev.shepherd.testsupport.ServiceEndpoints;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.springframework.amqp.rabbit.connection.CachingConnectionFactory;
import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;
import org.springframework.data.redis.core.ScanOptions;
import org.springframework.data.redis.core.StringRedisTemplate;

/** What every end-to-end test needs: a cluster under a unique prefix, and its clean-up. */
final class E2eSupport implements AutoCloseable {

  final String prefix;
  final Cluster cluster;
  final Topology topology;
  final CachingConnectionFactory rabbit;
  final LettuceConnectionFactory redis;
  private final ServiceEndpoints endpoints;
  private final Path logs;

  E2eSupport(ServiceEndpoints endpoints, String prefix, int workers, Map<String, String> extra) {
    this(endpoints, prefix, workers, extra, null);
  }

  /**
   * @param classpathFirst a directory whose files replace the services' resources of the same name
   *     (see {@link Cluster#start(Cluster.Spec, java.util.List, Path)}), or null
   */
  E2eSupport(
      ServiceEndpoints endpoints,
      String prefix,
      int workers,
      Map<String, String> extra,
      Path classpathFirst) {
    this.prefix = prefix;
    this.topology = new Topology(prefix, MessagingProperties.DEFAULT_POOLS, 5);
    this.rabbit = endpoints.newRabbitConnectionFactory();
    String addresses = extra.get("spring.rabbitmq.addresses");
    if (addresses != null) {
      // the services were given a broker cluster's nodes: the test's own connection goes to the
      // first of them that answers, and to another when that one goes down
      rabbit.setAddresses(addresses);
    }
    this.redis = endpoints.newRedisConnectionFactory();
    this.endpoints = endpoints;
    this.logs = Cluster.repositoryRoot().resolve("e2e-tests/target/e2e-logs/" + prefix);
    this.cluster =
        Cluster.start(
            new Cluster.Spec(
                Cluster.repositoryRoot(),
                prefix,
                endpoints.asSpringProperties(),
                workers,
                4,
                extra,
                logs),
            Cluster.TEST_JVM_ARGS,
            classpathFirst);
  }

  /** The directory that holds each service's log ({@code worker-1.log}, ...). */
  Path logs() {
    return logs;
  }

  long messagesIn(String queue) {
    return RabbitCleanup.messageCount(rabbit, queue);
  }

  /** Leases still held: lease keys plus entries of the partitions' lease-deadline sets. */
  long leasesLeft() {
    // a connection of its own: after a failover (RedisSentinelFailoverE2EIT) one opened before it
    // may wait for its reconnect longer than the check's time limit; a new one asks the sentinels
    // for the master now
    LettuceConnectionFactory fresh = endpoints.newRedisConnectionFactory();
    try {
      return leasesLeft(new StringRedisTemplate(fresh));
    } finally {
      fresh.destroy();
    }
  }

  private long leasesLeft(StringRedisTemplate template) {
    long held = 0;
    try (var keys =
        template.scan(
            org.springframework.data.redis.core.ScanOptions.scanOptions()
                .match(prefix + ":*")
                .count(1000)
                .build())) {
      while (keys.hasNext()) {
        String key = keys.next();
        if (key.contains(":lease:")) {
          held++;
        } else if (key.endsWith(":leases")) {
          Long n = template.opsForZSet().zCard(key);
          held += n == null ? 0 : n;
        }
      }
    }
    return held;
  }

  /**
   * The jobs under this test's prefix, read from Redis: every job hash ({@code <prefix>:{pNN}:job:
   * <id>}), however it was created, so a second job made by a retried submission is counted too.
   */
  Set<String> jobsInRedis() {
    var template = new StringRedisTemplate(redis);
    Pattern jobKey = Pattern.compile(Pattern.quote(prefix) + ":\\{p\\d+\\}:job:([^:]+)");
    Set<String> ids = new TreeSet<>();
    try (var keys =
        template.scan(ScanOptions.scanOptions().match(prefix + ":*:job:*").count(1000).build())) {
      while (keys.hasNext()) {
        Matcher m = jobKey.matcher(keys.next());
        if (m.matches()) {
          ids.add(m.group(1));
        }
      }
    }
    return ids;
  }

  /**
   * The jobs this worker is running now, under its lease, that started at most {@code
   * startedWithin} ago and whose outcome it has not published yet (a published outcome keeps its
   * lease until the status-tracker applies it, so RUNNING alone does not mean work remains).
   */
  List<String> runningOn(String workerId, Duration startedWithin) {
    var template = new StringRedisTemplate(redis);
    long since = System.currentTimeMillis() - startedWithin.toMillis();
    List<String> running = new ArrayList<>();
    try (var keys =
        template.scan(ScanOptions.scanOptions().match(prefix + ":*:leases").count(1000).build())) {
      while (keys.hasNext()) {
        String leases = keys.next();
        String base = leases.substring(0, leases.length() - "leases".length());
        Set<String> held = template.opsForZSet().range(leases, 0, -1);
        for (String id : held == null ? Set.<String>of() : held) {
          List<Object> job =
              template
                  .<String, Object>opsForHash()
                  .multiGet(
                      base + "job:" + id, List.of("state", "worker", "startedAt", "outcomeAt"));
          if ("RUNNING".equals(job.get(0))
              && workerId.equals(job.get(1))
              && job.get(2) != null
              && Long.parseLong((String) job.get(2)) >= since
              && job.get(3) == null) {
            running.add(id);
          }
        }
      }
    }
    return running;
  }

  /** Every queue of the topology drains to empty and no lease is left. */
  void assertNothingLeftOver() {
    await()
        .atMost(Duration.ofSeconds(30))
        .untilAsserted(
            () -> {
              for (String queue : topology.queueNames()) {
                assertThat(messagesIn(queue)).as("messages in " + queue).isZero();
              }
              assertThat(leasesLeft()).as("leases left").isZero();
            });
  }

  @Override
  public void close() {
    try {
      cluster.close();
    } finally {
      RabbitCleanup.delete(rabbit, topology.queueNames(), topology.exchangeNames());
      RedisCleanup.deleteByPrefix(redis, prefix);
      rabbit.destroy();
      redis.destroy();
    }
  }
}
