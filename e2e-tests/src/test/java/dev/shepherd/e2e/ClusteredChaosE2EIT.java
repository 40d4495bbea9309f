package dev.shepherd.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.shepherd.e2e.ChaosE2EIT.Script;
import dev.shepherd.testsupport.ManagedProcess;
import dev.shepherd.testsupport.PrivateRabbit;
import dev.shepherd.testsupport.PrivateRabbitCluster;
import dev.shepherd.testsupport.PrivateRedis;
import dev.shepherd.testsupport.PrivateRedisCluster;
import dev.shepherd.testsupport.ServiceEndpoints;
import dev.shepherd.testsupport.TestNames;
import dev.shepherd.testsupport.WithRealServices;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import org.junit.jupiter.api.Test;

/**
 * The chaos run past one machine (issue 20): every service on a Redis Cluster (three masters, three
 * replicas) and a three-node RabbitMQ cluster (quorum queues on all three), submissions
 * acknowledged by a replica ({@code shepherd.store.replicas-to-acknowledge=1}, ADR 49), while a
 * script SIGKILLs a worker running long jobs, freezes another (SIGSTOP) until its long jobs' leases
 * were taken back, SIGKILLs the scheduler, restarts the status-tracker, SIGKILLs a Redis master
 * (its replica takes over) and starts it again (it comes back as a replica), makes a master answer
 * OOM, freezes a master longer than the cluster's node timeout (it is failed over, and comes back
 * as a replica when thawed), restarts a master into a LOADING phase longer than the node timeout,
 * and SIGKILLs the broker node that leads the work queue and starts it again: {@link ChaosE2EIT}'s
 * fault kinds, on the clustered engines.
 *
 * <p>The audit is {@link ChaosE2EIT}'s: exactly the accepted jobs exist (a submission a failover
 * lost would be missing, one retried into a second job would be extra), each SUCCEEDED in exactly
 * one terminal transition from the attempt holding its newest fencing token, the faults aimed at a
 * worker hit work that ran again, nothing is left in a queue or a lease; and no fencing token was
 * given to two claims of one job, read from the workers' own claim lines. {@code
 * -Dshepherd.chaos.clustered-jobs} sets the size: 600 in {@code make test}, 100,000 in {@code make
 * chaos}; the faults fire at the same fractions of it. It prints {@code CLUSTERED CHAOS RESULT}.
 */
@WithRealServices
class ClusteredChaosE2EIT {

  private static final int JOBS = Integer.getInteger("shepherd.chaos.clustered-jobs", 600);

  /** A long job every so many: enough to aim at, few enough that a big run is not all waiting. */
  private static final int LONG_EVERY = Math.max(ChaosE2EIT.LONG_EVERY, JOBS / 200);

  @Test
  void everyAcceptedJobEndsOnceWhileClusterNodesFailOver(ServiceEndpoints shared, TestNames names) {
    long started = System.nanoTime();
    try (var engines = Engines.launch();
        var e2e =
            new E2eSupport(
                new ServiceEndpoints(
                        URI.create(
                            "amqp://guest:guest@127.0.0.1:" + engines.brokers().node(0).port()),
                        URI.create("redis://127.0.0.1:1"),
                        "clustered chaos")
                    .withRedisCluster(engines.redis().addresses(), "private Redis Cluster"),
                names.prefix(),
                4,
                Map.ofEntries(
                    Map.entry("spring.rabbitmq.addresses", engines.brokers().addresses()),
                    Map.entry("spring.rabbitmq.address-shuffle-mode", "random"),
                    Map.entry("shepherd.store.replicas-to-acknowledge", "1"),
                    Map.entry("shepherd.store.lease-ttl", "3000ms"),
                    Map.entry("shepherd.store.retry-initial-backoff", "50ms"),
                    Map.entry("shepherd.store.worker-heartbeat", "1s"),
                    Map.entry("shepherd.store.worker-lost-after", "6s"),
                    // a claim a failover lost leaves its job QUEUED without a message
                    Map.entry("shepherd.recovery.schedule-to-start-timeout", "20s"),
                    Map.entry("shepherd.recovery.stale-queued-interval", "2s"),
                    ClaimLines.DEBUG));
        var client = e2e.cluster.client().build();
        var submitter =
            new SteadySubmitter(
                client,
                names.prefix(),
                JOBS,
                Duration.ofMillis(JOBS > 10_000 ? 2 : 20),
                JOBS > 10_000 ? 5 : 30,
                10,
                LONG_EVERY,
                ChaosE2EIT.LONG_PHASE_MILLIS,
                ChaosE2EIT.HEADROOM,
                JOBS > 10_000 ? 8 : 1)) {
      var brokers = engines.brokers();
      var redis = engines.redis();
      var cluster = e2e.cluster;
      List<ManagedProcess> workers = cluster.workers();
      var chaos = new Script(submitter, e2e, started, new ArrayList<>());
      Duration fault = ChaosE2EIT.FAULT;

      chaos.hitting(
          at(0.10),
          workers.get(0),
          "SIGKILL worker-1, start worker-5",
          () -> {
            workers.get(0).kill();
            cluster.addWorker();
          });
      chaos.hitting(at(0.15), workers.get(1), "SIGSTOP worker-2", () -> workers.get(1).pause());
      chaos.whileRunning(
          at(0.20),
          "SIGKILL the scheduler and start it again",
          () -> cluster.restartService("scheduler", true));
      chaos.whileRunning(
          at(0.25),
          "SIGCONT worker-2 (once its long jobs' leases were taken back); restart the"
              + " status-tracker (SIGTERM)",
          () -> {
            chaos.resumeOnceTakenBack(workers.get(1));
            cluster.restartService("status-tracker", false);
          });
      chaos.whileRunning(
          at(0.30),
          "SIGKILL a Redis master; start it again once its replica took over",
          () -> {
            PrivateRedis victim = redis.masters().getFirst();
            victim.kill();
            redis.awaitHealthy(Duration.ofMinutes(1));
            chaos.log("a replica serves the slots of " + victim.address());
            victim.start();
          });
      chaos.whileRunning(
          at(0.45),
          "a Redis master answers OOM for " + fault.toSeconds() + " s",
          () -> {
            PrivateRedis victim = redis.masters().getFirst();
            redis.refuseWrites(victim);
            ChaosE2EIT.hold(fault);
            victim.acceptWrites();
          });
      chaos.whileRunning(
          at(0.55),
          "SIGSTOP a Redis master for "
              + fault.toSeconds()
              + " s (past the node timeout: it is failed over)",
          () -> {
            PrivateRedis victim = redis.masters().getFirst();
            victim.freeze();
            ChaosE2EIT.hold(fault);
            victim.thaw();
            redis.awaitHealthy(Duration.ofMinutes(1));
          });
      chaos.whileRunning(
          at(0.62),
          "restart a Redis master (SIGTERM) into about 4 s of LOADING: past the node timeout",
          () -> {
            PrivateRedis victim = redis.masters().getFirst();
            long keys = Long.parseLong(victim.command("DBSIZE").replaceAll("\\D", ""));
            victim.restartLoadingSlowly(Duration.ofNanos(Math.max(1_000, 4_000_000_000L / keys)));
            redis.awaitHealthy(Duration.ofMinutes(1));
            chaos.log(victim.address() + " loaded its AOF (" + keys + " keys)");
          });
      chaos.whileRunning(
          at(0.70),
          "SIGKILL the broker node leading the work queue; start it again",
          () -> {
            String workQueue = e2e.topology.workQueue(e2e.topology.poolOf("site.generate"));
            PrivateRabbit victim =
                brokers.node(
                    brokers.queues().stream()
                        .filter(q -> q.name().equals(workQueue))
                        .findFirst()
                        .orElseThrow()
                        .leader());
            victim.kill();
            chaos.log("killed " + victim.nodeName());
            victim.start();
            brokers.awaitFormed();
          });
      submitter.allowUpTo(JOBS);
      submitter.awaitAll(Duration.ofMinutes(Math.max(4, JOBS / 10_000 * 6)));
      chaos.log("all " + JOBS + " jobs accepted");

      List<String> accepted = submitter.accepted();
      OutcomeAudit.awaitAllTerminal(
          client, accepted, Duration.ofMinutes(Math.max(5, JOBS / 10_000 * 3)));
      chaos.log("all accepted jobs in a terminal state");
      OutcomeAudit audit = OutcomeAudit.of(cluster.schedulerUri(), accepted);
      e2e.assertNothingLeftOver();
      long queued = e2e.topology.queueNames().stream().mapToLong(e2e::messagesIn).sum();
      Set<String> inRedis = e2e.jobsInRedis();
      ClaimLines claims = ClaimLines.read(e2e.logs());
      List<String> tokenReused = claims.issuedTwice();
      System.out.printf(
          "CLUSTERED CHAOS RESULT: %s; %d jobs under the prefix in Redis; %d submission tries"
              + " refused or unanswered and retried with the same key; %d tokens issued, %d of"
              + " them twice; %d messages left in %d queues; %d leases left; faults aimed at"
              + " workers hit %s; %.0f s in all%n",
          audit.summary(),
          inRedis.size(),
          submitter.refusedTries(),
          claims.tokens(),
          tokenReused.size(),
          queued,
          e2e.topology.queueNames().size(),
          e2e.leasesLeft(),
          chaos.hits().stream().map(h -> h.what() + ": " + h.held().size() + " long jobs").toList(),
          (System.nanoTime() - started) / 1e9);
      ChaosE2EIT.assertExactlyTheAcceptedSucceededOnce(audit, accepted, inRedis, JOBS);
      assertThat(tokenReused).as("a fencing token given to two claims of one job").isEmpty();
      ChaosE2EIT.assertEachHitRanAgain(audit, chaos.hits());
    }
  }

  /**
   * The run's RabbitMQ and Redis clusters, started at the same time: each start is mostly waiting
   * (a node's boot, the peers' discovery, the Redis Cluster's slots agreed), and one after the
   * other they took over two minutes of this class's five under make test's load. Closing closes
   * both.
   */
  private record Engines(PrivateRabbitCluster brokers, PrivateRedisCluster redis)
      implements AutoCloseable {

    static Engines launch() {
      CompletableFuture<PrivateRabbitCluster> brokers =
          CompletableFuture.supplyAsync(
              PrivateRabbitCluster::launch,
              command -> Thread.ofVirtual().name("rabbitmq-cluster-launch").start(command));
      PrivateRedisCluster redis;
      try {
        redis = PrivateRedisCluster.launch();
      } catch (RuntimeException e) {
        brokers.thenAccept(PrivateRabbitCluster::close);
        throw e;
      }
      try {
        return new Engines(brokers.join(), redis);
      } catch (CompletionException e) {
        redis.close();
        throw e.getCause() instanceof RuntimeException r ? r : e;
      }
    }

    @Override
    public void close() {
      try (redis) {
        brokers.close();
      }
    }
  }

  /** The accepted count at which a step fires: a fraction of the run. */
  private static int at(double fraction) {
    return (int) (JOBS * fraction);
  }
}
