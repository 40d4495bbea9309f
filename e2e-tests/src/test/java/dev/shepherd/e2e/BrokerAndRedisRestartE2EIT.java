package dev.shepherd.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.shepherd.model.JobState;
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
 * RabbitMQ restarted, then Redis killed and restarted, in the middle of a steady stream of jobs:
 * services reconnect by themselves, publishes are retried until confirmed, and every accepted job
 * succeeds. Both run as private instances (Redis with AOF, {@code appendfsync everysec}), never the
 * shared ones.
 */
@WithRealServices
class BrokerAndRedisRestartE2EIT {

  private static final int JOBS = 600;

  @Test
  void noAcceptedJobIsLostWhenTheBrokerAndRedisRestartMidRun(TestNames names) {
    try (var rabbit = PrivateRabbit.launch();
        var redis = PrivateRedis.launch();
        var e2e =
            new E2eSupport(
                ServiceEndpoints.of(rabbit, redis),
                names.prefix(),
                2,
                Map.of(
                    "shepherd.store.lease-ttl", "5000ms",
                    "shepherd.store.retry-initial-backoff", "50ms"));
        var client = e2e.cluster.client().build();
        var submitter =
            new SteadySubmitter(client, names.prefix(), JOBS, Duration.ofMillis(25), 20, 10)) {
      submitter.awaitAccepted(JOBS / 4, Duration.ofMinutes(2));
      System.out.println("restarting RabbitMQ with " + submitter.accepted().size() + " accepted");
      rabbit.restart();
      submitter.awaitAccepted(JOBS / 2, Duration.ofMinutes(2));
      System.out.println("killing Redis with " + submitter.accepted().size() + " accepted");
      redis.killAndRestart();
      submitter.awaitAll(Duration.ofMinutes(3));

      List<String> accepted = submitter.accepted();
      OutcomeAudit.awaitAllTerminal(client, accepted, Duration.ofMinutes(4));
      OutcomeAudit audit = OutcomeAudit.of(e2e.cluster.schedulerUri(), accepted);
      System.out.println(
          "broker and Redis restarts: "
              + audit.summary()
              + "; "
              + submitter.refusedTries()
              + " submission tries refused or unanswered and retried");
      assertThat(audit.violations()).isEmpty();
      assertThat(accepted).hasSize(JOBS);
      assertThat(audit.count(JobState.SUCCEEDED)).isEqualTo(JOBS);
      e2e.assertNothingLeftOver();
    }
  }
}
