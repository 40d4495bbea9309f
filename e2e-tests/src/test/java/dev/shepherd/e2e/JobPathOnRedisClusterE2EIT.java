package dev.shepherd.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.shepherd.testsupport.PrivateRedis;
import dev.shepherd.testsupport.PrivateRedisCluster;
import dev.shepherd.testsupport.ServiceEndpoints;
import dev.shepherd.testsupport.TestNames;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * {@link JobPathE2EIT} again, every check of it, with Redis a Redis Cluster of three masters and
 * three replicas (the class's own {@link PrivateRedisCluster}): the services are given its nodes
 * ({@code spring.data.redis.cluster.nodes}) and each script runs on the master of its partition's
 * slot. One suite, two backends (issue 20). Then, on the same cluster and the same services, a
 * master is SIGKILLed under a steady stream of jobs ({@link MasterFailover}).
 *
 * <p>The services run with the failover's settings from the start (5 s leases, stale QUEUED jobs
 * published again after 20 s, claims logged), which the job path's checks do not depend on: one
 * start of the services and one cluster serve both, where two classes started them twice. The
 * cluster is the class's own, not the JVM's shared one ({@code ServiceLocator.ownRedisCluster}):
 * after the kill it runs without a replica for one shard, which no later class should inherit.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class JobPathOnRedisClusterE2EIT extends JobPathE2EIT {

  private PrivateRedisCluster redis;

  @Override
  @BeforeAll
  void start(ServiceEndpoints endpoints, TestNames names) {
    redis = PrivateRedisCluster.launch();
    super.start(endpoints.withRedisCluster(redis.addresses(), "private Redis Cluster"), names);
  }

  /**
   * The job path's settings and the failover's; with 0 replicas to acknowledge a submission, since
   * the killed master's shard has no replica left to acknowledge until it comes back (ADR 49).
   */
  @Override
  Map<String, String> settings() {
    var settings = new HashMap<>(super.settings());
    settings.putAll(MasterFailover.settings(0));
    return settings;
  }

  @Override
  @AfterAll
  void stop() {
    try {
      super.stop();
    } finally {
      if (redis != null) {
        redis.close();
      }
    }
  }

  /** After the job path: the run's data is spread over every master, so each one served scripts. */
  @Test
  @Order(Integer.MAX_VALUE - 1)
  void everyMasterOfTheClusterHoldsSomeOfTheRun() {
    var masters = redis.masters();
    assertThat(masters).hasSize(3);
    for (PrivateRedis master : masters) {
      assertThat(Long.parseLong(master.command("DBSIZE").substring(1)))
          .as("keys on the master at %s", master.address())
          .isPositive();
    }
  }

  /** Last: it leaves the cluster one replica short. */
  @Test
  @Order(Integer.MAX_VALUE)
  void aKilledClusterMastersReplicaTakesOverAndEveryAcceptedJobSucceedsWithoutATokenIssuedTwice() {
    MasterFailover.across(
        "Redis Cluster",
        e2e,
        client,
        () -> {
          PrivateRedis victim = redis.masters().getFirst();
          System.out.println("killing the cluster master at " + victim.address());
          victim.kill();
          redis.awaitHealthy(Duration.ofSeconds(60));
        });
  }
}
