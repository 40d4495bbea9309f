package dev.shepherd.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.shepherd.client.ShepherdClient;
import dev.shepherd.testsupport.ManagedProcess;
import dev.shepherd.testsupport.PrivateRabbit;
import dev.shepherd.testsupport.PrivateRedis;
import dev.shepherd.testsupport.ServiceEndpoints;
import dev.shepherd.testsupport.TestNames;
import dev.shepherd.testsupport.WithRealServices;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * 2,000 jobs through the four services and four workers while a script kills two workers with
 * SIGKILL, freezes one with SIGSTOP, kills and restarts the scheduler, restarts the status-tracker,
 * kills and restarts the (private) RabbitMQ and restarts the (private) Redis. At the end every
 * accepted job is in exactly one terminal state, every SUCCEEDED outcome was reported by the
 * attempt holding the job's current fencing token, no queue holds a message and no lease is left.
 * The leases are short (3 s) so that the run fits in the suite; the counts are printed, and quoted
 * in docs/RELIABILITY.md.
 */
@WithRealServices
class ChaosE2EIT {

  private static final int JOBS = 2_000;

  @Test
  void everyAcceptedJobEndsOnceWhileWorkersServicesBrokerAndRedisAreBroken(TestNames names) {
    long started = System.nanoTime();
    try (var rabbit = PrivateRabbit.launch();
        var redis = PrivateRedis.launch();
        var e2e =
            new E2eSupport(
                ServiceEndpoints.of(rabbit, redis),
                names.prefix(),
                4,
                Map.of(
                    "shepherd.store.lease-ttl", "3000ms",
                    "shepherd.store.retry-initial-backoff", "50ms",
                    "shepherd.store.worker-heartbeat", "1s",
                    "shepherd.store.worker-lost-after", "6s"));
        var client = ShepherdClient.builder().httpBaseUri(e2e.cluster.schedulerUri()).build();
        var submitter =
            new SteadySubmitter(client, names.prefix(), JOBS, Duration.ofMillis(20), 30, 10)) {
      var cluster = e2e.cluster;
      List<ManagedProcess> workers = cluster.workers();
      var chaos = new Script(submitter, started);

      chaos.at(
          200,
          "SIGKILL worker-1, start worker-5",
          () -> {
            workers.get(0).kill();
            cluster.addWorker();
          });
      chaos.at(400, "SIGSTOP worker-2", () -> workers.get(1).pause());
      chaos.at(
          600,
          "SIGKILL the scheduler and start it again",
          () -> cluster.restartService("scheduler", true));
      chaos.at(
          800,
          "SIGCONT worker-2; restart the status-tracker (SIGTERM)",
          () -> {
            workers.get(1).resume();
            cluster.restartService("status-tracker", false);
          });
      chaos.at(1000, "SIGKILL RabbitMQ and start it again", rabbit::killAndRestart);
      chaos.at(1300, "restart Redis (SIGTERM)", redis::restart);
      chaos.at(1500, "SIGKILL worker-3", () -> workers.get(2).kill());
      submitter.awaitAll(Duration.ofMinutes(4));
      chaos.log("all " + JOBS + " jobs accepted");

      List<String> accepted = submitter.accepted();
      OutcomeAudit.awaitAllTerminal(client, accepted, Duration.ofMinutes(5));
      chaos.log("all accepted jobs in a terminal state");
      OutcomeAudit audit = OutcomeAudit.of(client, accepted);
      e2e.assertNothingLeftOver();
      long queued = e2e.topology.queueNames().stream().mapToLong(e2e::messagesIn).sum();
      System.out.printf(
          "CHAOS RESULT: %s; %d submission tries refused or unanswered and retried with the same"
              + " key; %d messages left in %d queues; %d leases left; %.0f s in all%n",
          audit.summary(),
          submitter.refusedTries(),
          queued,
          e2e.topology.queueNames().size(),
          e2e.leasesLeft(),
          (System.nanoTime() - started) / 1e9);
      assertThat(audit.violations()).isEmpty();
      assertThat(accepted).hasSize(JOBS).doesNotHaveDuplicates();
      assertThat(audit.exactlyOneTerminal()).isEqualTo(JOBS);
      assertThat(audit.succeededWithCurrentToken())
          .isEqualTo(audit.count(dev.shepherd.model.JobState.SUCCEEDED));
      assertThat(audit.reRun()).as("jobs run more than once: the chaos did hit work").isPositive();
    }
  }

  /** Runs each step once the submitter has had that many jobs accepted, and logs it. */
  private record Script(SteadySubmitter submitter, long started) {

    void at(int accepted, String what, Runnable step) {
      submitter.awaitAccepted(accepted, Duration.ofMinutes(3));
      log(what + " (" + submitter.accepted().size() + " accepted)");
      step.run();
      log("done: " + what);
    }

    void log(String what) {
      System.out.printf("[chaos %5.1f s] %s%n", (System.nanoTime() - started) / 1e9, what);
    }
  }
}
