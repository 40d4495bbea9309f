package dev.shepherd.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.shepherd.client.ShepherdClient;
import dev.shepherd.model.JobState;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * A Redis master SIGKILLed in the middle of a steady stream of jobs (issue 20), and what must hold
 * after it: a replica is promoted, the services follow by themselves, and every accepted job ends
 * in exactly one terminal state, SUCCEEDED. Replication is asynchronous, so the promoted replica
 * may lack the master's last writes; what that may cost (a claim or an outcome applied again, a job
 * run twice) is allowed, but never a fencing token given to two different claims of one job: tokens
 * are {@code max(stored + 1, TIME µs)} (ADR 3), so a claim the new master forgot is followed by a
 * larger token. The tokens are read from the workers' own claim lines, not from Redis, since Redis
 * is what may have forgotten them.
 *
 * <p>{@link JobPathOnRedisClusterE2EIT} runs it on a Redis Cluster, as the last step of its job
 * path on the same services; {@link RedisSentinelFailoverE2EIT} on a Redis with Sentinel.
 */
final class MasterFailover {

  private static final int JOBS = 600;

  private MasterFailover() {}

  /**
   * What the services are started with for a failover: short leases and retries, and recovery
   * looking every 2 s for jobs QUEUED over 20 s, since a claim the promoted replica forgot leaves
   * its job QUEUED with no message; the workers log every claim ({@link ClaimLines}).
   *
   * @param replicasToAcknowledge {@code shepherd.store.replicas-to-acknowledge} (ADR 49)
   */
  static Map<String, String> settings(int replicasToAcknowledge) {
    return Map.of(
        "shepherd.store.replicas-to-acknowledge",
        Integer.toString(replicasToAcknowledge),
        "shepherd.store.lease-ttl",
        "5000ms",
        "shepherd.store.retry-initial-backoff",
        "50ms",
        "shepherd.recovery.schedule-to-start-timeout",
        "20s",
        "shepherd.recovery.stale-queued-interval",
        "2s",
        ClaimLines.DEBUG.getKey(),
        ClaimLines.DEBUG.getValue());
  }

  /**
   * Submits {@value #JOBS} jobs at a steady pace, runs {@code killTheMaster} (which returns once a
   * replica serves in the master's place) when a third of them were accepted, and asserts that
   * every one was accepted and SUCCEEDED in exactly one terminal transition from the attempt
   * holding its newest token, that no token of any job in the workers' logs was given to two
   * claims, and that nothing is left in a queue or a lease.
   *
   * @param e2e services started with {@link #settings(int)}
   */
  static void across(
      String backend, E2eSupport e2e, ShepherdClient client, Runnable killTheMaster) {
    try (var submitter =
        new SteadySubmitter(
            client, e2e.prefix + "-failover", JOBS, Duration.ofMillis(25), 20, 10)) {
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
