package dev.shepherd.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.shepherd.testsupport.PrivateRedis;
import dev.shepherd.testsupport.ServiceEndpoints;
import dev.shepherd.testsupport.ServiceLocator;
import dev.shepherd.testsupport.TestNames;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * {@link JobPathE2EIT} again, every check of it, with Redis a Redis Cluster of three masters and
 * three replicas (this JVM's own, {@link ServiceLocator#withOwnRedisCluster}): the services are
 * given its nodes ({@code spring.data.redis.cluster.nodes}) and each script runs on the master of
 * its partition's slot. One suite, two backends (issue 20).
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class JobPathOnRedisClusterE2EIT extends JobPathE2EIT {

  @Override
  @BeforeAll
  void start(ServiceEndpoints endpoints, TestNames names) {
    super.start(ServiceLocator.withOwnRedisCluster(endpoints), names);
  }

  /** After the others: the run's data is spread over every master, so each one served scripts. */
  @Test
  @Order(Integer.MAX_VALUE)
  void everyMasterOfTheClusterHoldsSomeOfTheRun() {
    var masters = ServiceLocator.ownRedisCluster().masters();
    assertThat(masters).hasSize(3);
    for (PrivateRedis master : masters) {
      assertThat(Long.parseLong(master.command("DBSIZE").substring(1)))
          .as("keys on the master at %s", master.address())
          .isPositive();
    }
  }
}
