package dev.shepherd.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.shepherd.client.ShepherdClient;
import dev.shepherd.client.ShepherdClientException;
import dev.shepherd.model.JobState;
import dev.shepherd.model.JobSubmission;
import dev.shepherd.model.JobView;
import dev.shepherd.model.Json;
import dev.shepherd.testsupport.PrivateRedis;
import dev.shepherd.testsupport.ServiceEndpoints;
import dev.shepherd.testsupport.TestNames;
import dev.shepherd.testsupport.WithRealServices;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/**
 * The whole cluster through the Redis faults of an ordinary bad day, while producers submit about
 * 40 jobs a second over AMQP: Redis refuses writes (out of memory) for 20 s, is frozen (SIGSTOP)
 * for 20 s, and is restarted into a LOADING phase of 25 s or more, 50,000 keys loaded 500 µs each
 * ({@code make chaos}; {@code make test} holds each fault 5 s and loads the keys 100 µs each, 5 s
 * or more of LOADING). The scheduler, the workers and the status-tracker pause with their
 * deliveries instead of spending the delivery limit on the outage, so every job the broker
 * confirmed succeeds, nothing becomes a dead record, nothing is left over, and no job needs a
 * second attempt: recovery does not judge the leases that the outage kept the workers from renewing
 * or marking (WorkLoop.Settle). A private Redis; the shared broker under a unique prefix; one
 * worker (capacity 4), so the cluster starts in time on a busy machine.
 */
@WithRealServices
class RedisOutageE2EIT {

  /** How long each Redis fault lasts: 5 s in {@code make test}, 20 s in {@code make chaos}. */
  private static final Duration FAULT = ChaosE2EIT.FAULT;

  /**
   * How long Redis takes to load each key after the LOADING restart ({@code key-load-delay}): 500
   * µs with {@code make chaos}'s long faults (25 s or more of LOADING for the 50,000 filler keys),
   * 100 µs otherwise ({@code make test}: 5 s or more, ChaosE2EIT's value), which the watcher,
   * sampling every 10 ms, still sees.
   */
  private static final Duration KEY_LOAD_DELAY =
      FAULT.toSeconds() >= 20 ? Duration.ofNanos(500_000) : Duration.ofNanos(100_000);

  @Test
  void everyJobSubmittedThroughOomAFrozenRedisAndLoadingSucceedsWithoutADeadRecord(
      ServiceEndpoints shared, TestNames names) throws Exception {
    try (var redis = PrivateRedis.launch()) {
      // keys loaded slowly after the restart: 50,000 x KEY_LOAD_DELAY of LOADING
      assertThat(
              redis.command(
                  "EVAL",
                  "for i = 1, 50000 do redis.call('SET', 'filler:' .. i, 'x') end return 1",
                  "0"))
          .isEqualTo(":1");
      var endpoints =
          new ServiceEndpoints(
              shared.rabbitmq(),
              URI.create("redis://127.0.0.1:" + redis.port()),
              "shared broker, private Redis");
      try (var e2e = new E2eSupport(endpoints, names.prefix(), 1, Map.of());
          var client =
              e2e.cluster.client().amqpUri(shared.rabbitmq()).prefix(names.prefix()).build()) {
        List<String> keys = new CopyOnWriteArrayList<>();
        var stop = new AtomicBoolean();
        Thread producer =
            Thread.ofPlatform()
                .name("outage-producer")
                .start(() -> submit(client, names.prefix(), keys, stop));
        try {
          await().atMost(Duration.ofSeconds(60)).until(() -> keys.size() >= 100);

          System.out.println("Redis out of memory with " + keys.size() + " jobs confirmed");
          redis.refuseWrites();
          hold(FAULT);
          redis.acceptWrites();

          System.out.println("freezing Redis with " + keys.size() + " jobs confirmed");
          redis.freeze();
          hold(FAULT);
          redis.thaw();

          System.out.println("restarting Redis with " + keys.size() + " jobs confirmed");
          assertThat(redis.restartIntoLoading(KEY_LOAD_DELAY))
              .as("Redis answered LOADING after the restart")
              .isTrue();
          int confirmed = keys.size();
          await().atMost(Duration.ofSeconds(30)).until(() -> keys.size() >= confirmed + 100);
        } finally {
          stop.set(true);
          producer.join();
        }

        System.out.println(keys.size() + " jobs confirmed; finding them");
        List<String> ids = new ArrayList<>();
        for (String key : keys) {
          ids.add(client.jobIdForKey(key, Duration.ofMinutes(2)).get());
        }
        OutcomeAudit.awaitAllTerminal(client, ids, Duration.ofMinutes(2));
        OutcomeAudit audit = OutcomeAudit.of(e2e.cluster.schedulerUri(), ids);
        System.out.println("Redis outage: " + audit.summary());
        assertThat(audit.violations()).isEmpty();
        assertThat(audit.count(JobState.SUCCEEDED)).isEqualTo(ids.size());
        List<String> notFirstAttempt = new ArrayList<>();
        for (String id : ids) {
          JobView job = client.get(id).orElseThrow();
          if (job.attempt() != 1) {
            notFirstAttempt.add(id + " attempt " + job.attempt());
          }
        }
        System.out.println(
            "Redis outage: "
                + notFirstAttempt.size()
                + " of "
                + ids.size()
                + " jobs needed another attempt");
        // Recovery waits until Redis takes writes promptly again, and then for the workers to
        // renew and mark their leases, before it judges anyone by them (WorkLoop.Settle): no job
        // runs twice because of an outage.
        assertThat(notFirstAttempt).as("jobs that needed another attempt").isEmpty();
        assertThat(audit.reRun()).as("jobs run more than once").isZero();
        assertThat(client.deadJobs(10)).as("dead-job records").isEmpty();
        e2e.assertNothingLeftOver();
      }
    }
  }

  /** About 40 submissions a second over AMQP; a key counts once the broker confirmed it. */
  private static void submit(
      ShepherdClient client, String prefix, List<String> keys, AtomicBoolean stop) {
    for (int i = 0; !stop.get(); i++) {
      var submission =
          JobSubmission.of("demo.noop", Json.mapper().createObjectNode().put("i", i))
              .withIdempotencyKey(prefix + "-outage-" + i);
      try {
        keys.add(client.submitViaAmqp(submission));
      } catch (ShepherdClientException e) {
        // not confirmed, so not accepted: a producer would retry it, and the audit skips it
      }
      try {
        Thread.sleep(25); // the producers' pace, not a wait for a result
      } catch (InterruptedException e) {
        return;
      }
    }
  }

  /** Keeps a fault in place this long: the outage under test, not a wait for a result. */
  private static void hold(Duration fault) throws InterruptedException {
    Thread.sleep(fault); // the fault lasts this long by design: nothing to wait for
  }
}
