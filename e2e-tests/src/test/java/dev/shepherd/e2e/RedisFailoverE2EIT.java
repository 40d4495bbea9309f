package dev.shepherd.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.shepherd.model.JobState;
import dev.shepherd.testsupport.PrivateRedis;
import dev.shepherd.testsupport.PrivateRedisCluster;
import dev.shepherd.testsupport.PrivateRedisSentinels;
import dev.shepherd.testsupport.ServiceEndpoints;
import dev.shepherd.testsupport.TestNames;
import dev.shepherd.testsupport.WithRealServices;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The master of a Redis Cluster, or of a Redis with Sentinel, SIGKILLed in the middle of a steady
 * stream of jobs (issue 20): a replica is promoted, the services follow by themselves, and every
 * accepted job ends in exactly one terminal state, SUCCEEDED. Replication is asynchronous, so the
 * promoted replica may lack the master's last writes; what that may cost (a claim or an outcome
 * applied again, a job run twice) is allowed, but never a fencing token given to two different
 * claims of one job: tokens are {@code max(stored + 1, TIME µs)} (ADR 3), so a claim the new master
 * forgot is followed by a larger token. The tokens are read from the workers' own claim lines, not
 * from Redis, since Redis is what may have forgotten them.
 *
 * <p>A submission is another matter: a job the new master lacks was accepted and is gone. So the
 * Sentinel case runs as a deployment that promises "accepted means kept" must (ADR 49): a
 * submission counts once a replica has it ({@code shepherd.store.replicas-to-acknowledge=1}), and
 * is refused (and submitted again by the producer) otherwise. Without it a clean-clone run lost 303
 * of 600 accepted jobs: the sentinels promoted one replica, and ten seconds later, on a loaded
 * machine, the other, which had never copied what the first had accepted meanwhile. The cluster
 * case keeps 0: its killed master's shard has no replica left to acknowledge (ClusteredChaosE2EIT
 * runs with 1 and brings the killed node back).
 */
@WithRealServices
class RedisFailoverE2EIT {

  private static final int JOBS = 600;
  private static final Pattern CLAIM =
      Pattern.compile("claimed job (\\S+) \\(\\S+\\) attempt (\\d+) token (\\d+)");

  @Test
  void aKilledClusterMastersReplicaTakesOverAndEveryAcceptedJobSucceedsWithoutATokenIssuedTwice(
      ServiceEndpoints endpoints, TestNames names) throws IOException {
    try (var redis = PrivateRedisCluster.launch()) {
      throughAFailover(
          "Redis Cluster",
          endpoints.withRedisCluster(redis.addresses(), "private Redis Cluster"),
          names,
          0, // the killed master's shard has no replica left to acknowledge until it comes back
          () -> {
            PrivateRedis victim = redis.masters().getFirst();
            System.out.println("killing the cluster master at " + victim.address());
            victim.kill();
            redis.awaitHealthy(Duration.ofSeconds(60));
          });
    }
  }

  @Test
  void aKilledSentinelMasterIsReplacedAndEveryAcceptedJobSucceedsWithoutATokenIssuedTwice(
      ServiceEndpoints endpoints, TestNames names) throws IOException {
    try (var redis = PrivateRedisSentinels.launch()) {
      throughAFailover(
          "Redis Sentinel",
          endpoints.withRedisSentinels(
              PrivateRedisSentinels.MASTER_NAME, redis.sentinelAddresses(), "private Sentinel"),
          names,
          1, // two replicas: the one not promoted acknowledges
          () -> {
            PrivateRedis victim = redis.master();
            System.out.println("killing the sentinels' master at " + victim.address());
            victim.kill();
            redis.awaitFailoverFrom(victim, Duration.ofSeconds(60));
          });
    }
  }

  private static void throughAFailover(
      String backend,
      ServiceEndpoints endpoints,
      TestNames names,
      int replicasToAcknowledge,
      Runnable killTheMaster)
      throws IOException {
    try (var e2e =
            new E2eSupport(
                endpoints,
                names.prefix(),
                2,
                Map.of(
                    "shepherd.store.replicas-to-acknowledge",
                    Integer.toString(replicasToAcknowledge),
                    "shepherd.store.lease-ttl",
                    "5000ms",
                    "shepherd.store.retry-initial-backoff",
                    "50ms",
                    // a claim the promoted replica forgot leaves its job QUEUED with no message
                    "shepherd.recovery.schedule-to-start-timeout",
                    "20s",
                    "shepherd.recovery.stale-queued-interval",
                    "2s",
                    ClaimLines.DEBUG.getKey(),
                    ClaimLines.DEBUG.getValue()));
        var client = e2e.cluster.client().build();
        var submitter =
            new SteadySubmitter(client, names.prefix(), JOBS, Duration.ofMillis(25), 20, 10)) {
      submitter.awaitAccepted(JOBS / 3, Duration.ofMinutes(2));
      System.out.println(submitter.accepted().size() + " accepted before the kill");
      Instant killed = Instant.now();
      killTheMaster.run();
      System.out.println(
          "a replica is the master "
              + Duration.between(killed, Instant.now()).toMillis()
              + " ms after the kill");
      submitter.awaitAll(Duration.ofMinutes(3));

      List<String> accepted = submitter.accepted();
      OutcomeAudit.awaitAllTerminal(client, accepted, Duration.ofMinutes(4));
      OutcomeAudit audit = OutcomeAudit.of(e2e.cluster.schedulerUri(), accepted);
      ClaimLines claims = ClaimLines.read(e2e.logs());
      List<String> tokenReused = claims.issuedTwice();
      System.out.println(
          backend
              + " failover: "
              + audit.summary()
              + "; "
              + claims.tokens()
              + " tokens issued to "
              + claims.jobs().size()
              + " jobs, "
              + tokenReused.size()
              + " issued twice; "
              + submitter.refusedTries()
              + " submission tries refused or unanswered and retried");
      assertThat(claims.jobs()).as("claims seen in the workers' logs").containsAll(accepted);
      assertThat(tokenReused).as("a fencing token given to two claims of one job").isEmpty();
      assertThat(audit.violations()).isEmpty();
      assertThat(accepted).hasSize(JOBS);
      assertThat(audit.count(JobState.SUCCEEDED)).isEqualTo(JOBS);
      e2e.assertNothingLeftOver();
    }
  }
}
