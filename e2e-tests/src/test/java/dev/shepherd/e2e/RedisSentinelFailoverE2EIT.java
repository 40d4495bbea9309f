package dev.shepherd.e2e;

import dev.shepherd.testsupport.PrivateRedis;
import dev.shepherd.testsupport.PrivateRedisSentinels;
import dev.shepherd.testsupport.ServiceEndpoints;
import dev.shepherd.testsupport.TestNames;
import dev.shepherd.testsupport.WithRealServices;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * The master of a Redis with Sentinel SIGKILLed in the middle of a steady stream of jobs (issue
 * 20): the sentinels promote a replica, the services follow, and every accepted job SUCCEEDED once
 * without a fencing token issued twice ({@link MasterFailover}; the Redis Cluster case is the last
 * step of {@link JobPathOnRedisClusterE2EIT}).
 *
 * <p>A promoted replica that lacks the master's last claims and outcomes costs a job run again at
 * worst; one that lacks a submission lost a job that was accepted. So this runs as a deployment
 * that promises "accepted means kept" must (ADR 49): a submission counts once a replica has it
 * ({@code shepherd.store.replicas-to-acknowledge=1}), and is refused (and submitted again by the
 * producer) otherwise. Without it a clean-clone run lost 303 of 600 accepted jobs: the sentinels
 * promoted one replica, and ten seconds later, on a loaded machine, the other, which had never
 * copied what the first had accepted meanwhile.
 */
@WithRealServices
class RedisSentinelFailoverE2EIT {

  @Test
  void aKilledSentinelMasterIsReplacedAndEveryAcceptedJobSucceedsWithoutATokenIssuedTwice(
      ServiceEndpoints endpoints, TestNames names) {
    try (var redis = PrivateRedisSentinels.launch();
        var e2e =
            new E2eSupport(
                endpoints.withRedisSentinels(
                    PrivateRedisSentinels.MASTER_NAME,
                    redis.sentinelAddresses(),
                    "private Sentinel"),
                names.prefix(),
                2,
                MasterFailover.settings(1)); // two replicas: the one not promoted acknowledges
        var client = e2e.cluster.client().build()) {
      MasterFailover.across(
          "Redis Sentinel",
          e2e,
          client,
          () -> {
            PrivateRedis victim = redis.master();
            System.out.println("killing the sentinels' master at " + victim.address());
            victim.kill();
            redis.awaitFailoverFrom(victim, Duration.ofSeconds(60));
          });
    }
  }
}
