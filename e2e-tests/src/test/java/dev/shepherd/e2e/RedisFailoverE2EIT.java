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
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
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
          () -> {
            PrivateRedis victim = redis.master();
            System.out.println("killing the sentinels' master at " + victim.address());
            victim.kill();
            redis.awaitFailoverFrom(victim, Duration.ofSeconds(60));
          });
    }
  }

  private static void throughAFailover(
      String backend, ServiceEndpoints endpoints, TestNames names, Runnable killTheMaster)
      throws IOException {
    try (var e2e =
            new E2eSupport(
                endpoints,
                names.prefix(),
                2,
                Map.of(
                    "shepherd.store.lease-ttl", "5000ms",
                    "shepherd.store.retry-initial-backoff", "50ms",
                    // a claim the promoted replica forgot leaves its job QUEUED with no message
                    "shepherd.recovery.schedule-to-start-timeout", "20s",
                    "shepherd.recovery.stale-queued-interval", "2s",
                    "logging.level.dev.shepherd.worker.AttemptExecution", "DEBUG"));
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
      Map<String, Map<Long, List<String>>> claims = claimsByJobAndToken(e2e.logs());
      List<String> tokenReused = new ArrayList<>();
      claims.forEach(
          (job, byToken) ->
              byToken.forEach(
                  (token, claimants) -> {
                    if (claimants.stream().distinct().count() > 1) {
                      tokenReused.add(job + " token " + token + " claimed by " + claimants);
                    }
                  }));
      System.out.println(
          backend
              + " failover: "
              + audit.summary()
              + "; "
              + claims.values().stream().mapToInt(Map::size).sum()
              + " tokens issued to "
              + claims.size()
              + " jobs, "
              + tokenReused.size()
              + " issued twice; "
              + submitter.refusedTries()
              + " submission tries refused or unanswered and retried");
      assertThat(claims.keySet()).as("claims seen in the workers' logs").containsAll(accepted);
      assertThat(tokenReused).as("a fencing token given to two claims of one job").isEmpty();
      assertThat(audit.violations()).isEmpty();
      assertThat(accepted).hasSize(JOBS);
      assertThat(audit.count(JobState.SUCCEEDED)).isEqualTo(JOBS);
      e2e.assertNothingLeftOver();
    }
  }

  /**
   * Every claim the workers logged (at DEBUG, {@code AttemptExecution}), by job and token: which
   * attempt, in which worker's log ({@code attempt/worker-1.log}). The same worker claiming the
   * same attempt again gets the same token by design (a claim whose reply was lost); anything else
   * under one token is a token issued twice.
   */
  private static Map<String, Map<Long, List<String>>> claimsByJobAndToken(Path logs)
      throws IOException {
    Map<String, Map<Long, List<String>>> claims = new HashMap<>();
    try (Stream<Path> files = Files.list(logs)) {
      for (Path log : files.filter(p -> p.getFileName().toString().startsWith("worker")).toList()) {
        for (String line : Files.readAllLines(log)) {
          Matcher m = CLAIM.matcher(line);
          if (m.find()) {
            claims
                .computeIfAbsent(m.group(1), j -> new TreeMap<>())
                .computeIfAbsent(Long.parseLong(m.group(3)), t -> new ArrayList<>())
                .add(m.group(2) + "/" + log.getFileName());
          }
        }
      }
    }
    return claims;
  }
}
