package dev.shepherd.store.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.shepherd.store.BlockingRedis;
import dev.shepherd.store.JobQueries;
import dev.shepherd.store.NewJob;
import dev.shepherd.store.Submissions;
import dev.shepherd.testsupport.PrivateRedis;
import dev.shepherd.testsupport.PrivateRedisCluster;
import dev.shepherd.testsupport.PrivateRedisSentinels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.data.redis.autoconfigure.DataRedisAutoConfiguration;
import org.springframework.boot.test.context.assertj.AssertableApplicationContext;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.dao.QueryTimeoutException;
import org.springframework.data.redis.RedisConnectionFailureException;
import org.springframework.data.redis.RedisSystemException;
import redis.clients.jedis.exceptions.JedisDataException;

/**
 * The store's blocking client (ADR 57) as a service builds it, from {@code spring.data.redis.*}
 * through {@link StoreConfiguration}: to one Redis with an ACL user, to Sentinel's master and to a
 * Cluster, and what it does when Redis refuses, freezes, goes away, fails over or forgets its
 * scripts. Each test has Redis of its own, one partition, and submits jobs through the service's
 * {@link Submissions}, whose calls take this client.
 */
class BlockingRedisIT {

  private static final NewJob JOB = new NewJob("demo.noop", "default", "{}", null, null, 3);

  private static ApplicationContextRunner service(String... properties) {
    List<String> all = new ArrayList<>(List.of(properties));
    all.add("shepherd.store.partitions=1");
    return new ApplicationContextRunner()
        .withConfiguration(AutoConfigurations.of(DataRedisAutoConfiguration.class))
        .withUserConfiguration(StoreConfiguration.class)
        .withPropertyValues(all.toArray(String[]::new));
  }

  private static String submit(AssertableApplicationContext context) {
    return context.getBean(Submissions.class).submit(JOB).jobId();
  }

  /** deploy/'s ACL: the {@code default} user may only PING, so a call without the user fails. */
  @Test
  void aServiceRunsItsScriptsThroughTheBlockingClientAsItsAclUser() {
    try (var redis = PrivateRedis.launch(deployFile("redis/users.acl"))) {
      service(
              "spring.data.redis.port=" + redis.port(),
              "spring.data.redis.username=scheduler",
              "spring.data.redis.password=shepherd-demo-scheduler")
          .run(
              context -> {
                assertThat(context.getBean(BlockingRedis.class).isOn()).isTrue();
                assertThat(context.getBean(BlockingRedis.class).toString())
                    .contains(Integer.toString(redis.port()));
                String id = submit(context);
                assertThat(context.getBean(JobQueries.class).find(id)).isPresent();
              });
    }
  }

  @Test
  void turnedOffTheCallsGoThroughLettuce() {
    try (var redis = PrivateRedis.launch()) {
      service("spring.data.redis.port=" + redis.port(), "shepherd.store.blocking-client=false")
          .run(
              context -> {
                assertThat(context.getBean(BlockingRedis.class)).isSameAs(BlockingRedis.OFF);
                redis.refuseWrites();
                // Lettuce's refusal, not Jedis's: the flag is what decides
                assertThatThrownBy(() -> submit(context))
                    .isInstanceOf(RedisSystemException.class)
                    .rootCause()
                    .isNotInstanceOf(JedisDataException.class);
              });
    }
  }

  /**
   * Each failure arrives as Spring's, as Lettuce's do once translated, so that the consumers'
   * {@code FailureKind} and the REST API's problem responses treat both clients alike: a refusal
   * keeps Redis's code, a frozen Redis is a time-out after the command time-out, a stopped one a
   * connection failure; and once Redis is back (restarted, its script cache empty) the next call
   * works without anything reconnecting by hand.
   */
  @Test
  void failuresAreSpringsAndTheClientComesBackWithRedis() {
    try (var redis = PrivateRedis.launch()) {
      service("spring.data.redis.port=" + redis.port(), "spring.data.redis.timeout=500ms")
          .run(
              context -> {
                submit(context);

                redis.refuseWrites();
                assertThatThrownBy(() -> submit(context))
                    .isInstanceOf(RedisSystemException.class)
                    .cause()
                    .isInstanceOf(JedisDataException.class)
                    .hasMessageStartingWith("OOM");
                redis.acceptWrites();

                redis.freeze();
                try {
                  assertThatThrownBy(() -> submit(context))
                      .isInstanceOf(QueryTimeoutException.class);
                } finally {
                  redis.thaw();
                }

                redis.stop();
                assertThatThrownBy(() -> submit(context))
                    .isInstanceOf(RedisConnectionFailureException.class);
                // restarted without its data: the scripts are run whole, then by their SHA again
                redis.start();
                await()
                    .atMost(Duration.ofSeconds(10))
                    .ignoreExceptions()
                    .until(() -> submit(context) != null);
              });
    }
  }

  /** After Sentinel promoted a replica, the calls go to it: the client follows the sentinels. */
  @Test
  void itFollowsSentinelToTheNewMaster() {
    try (var set = PrivateRedisSentinels.launch()) {
      service(
              "spring.data.redis.sentinel.master=" + PrivateRedisSentinels.MASTER_NAME,
              "spring.data.redis.sentinel.nodes=" + String.join(",", set.sentinelAddresses()))
          .run(
              context -> {
                assertThat(context.getBean(BlockingRedis.class).toString())
                    .contains("master " + PrivateRedisSentinels.MASTER_NAME);
                submit(context);
                PrivateRedis old = set.master();
                old.kill();
                PrivateRedis promoted = set.awaitFailoverFrom(old, Duration.ofSeconds(30));

                String id =
                    await()
                        .atMost(Duration.ofSeconds(30))
                        .pollInterval(Duration.ofMillis(200))
                        .ignoreExceptions()
                        .until(() -> submit(context), j -> j != null);
                assertThat(promoted.command("DBSIZE")).isNotEqualTo(":0");
                // read back through Lettuce (reads are not on a job's path), once it has followed
                // too
                await()
                    .atMost(Duration.ofSeconds(30))
                    .ignoreExceptions()
                    .until(() -> context.getBean(JobQueries.class).find(id).isPresent());
              });
    }
  }

  /**
   * A Cluster master that stops answering (SIGSTOP) is replaced by its replica, and the calls for
   * its slots go there soon after, as {@code RedisClusterFrozenMasterIT} asks of Lettuce: each call
   * waits at most about the command time-out, and the client reads the topology again.
   */
  @Test
  void itFollowsAClusterPastAFrozenMaster() {
    try (var cluster = PrivateRedisCluster.launch()) {
      service(
              "spring.data.redis.cluster.nodes=" + String.join(",", cluster.addresses()),
              "shepherd.store.prefix=frozen")
          .run(
              context -> {
                assertThat(context.getBean(BlockingRedis.class).toString()).contains("cluster");
                submit(context);
                // one partition: every call goes to the master of its slot
                var master = cluster.masterOf("frozen:{p00}:");
                var replica = cluster.replicaOf(master);
                master.freeze();
                try {
                  String id =
                      await()
                          .atMost(Duration.ofSeconds(45))
                          .pollInterval(Duration.ofMillis(200))
                          .ignoreExceptions()
                          .until(() -> submit(context), j -> j != null);
                  assertThat(replica.command("INFO", "replication")).contains("role:master");
                  // read back through Lettuce (reads are not on a job's path), once it has followed
                  // too
                  await()
                      .atMost(Duration.ofSeconds(30))
                      .ignoreExceptions()
                      .until(() -> context.getBean(JobQueries.class).find(id).isPresent());
                } finally {
                  master.thaw();
                }
              });
    }
  }

  /** {@code deploy/<name>} of the repository this module is in. */
  static Path deployFile(String name) {
    for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
      Path candidate = dir.resolve("deploy").resolve(name);
      if (Files.exists(candidate)) {
        return candidate;
      }
    }
    throw new IllegalStateException("no deploy/" + name + " above " + Path.of("").toAbsolutePath());
  }
}
