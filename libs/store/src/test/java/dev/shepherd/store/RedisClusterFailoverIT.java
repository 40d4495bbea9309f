package dev.shepherd.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.shepherd.model.JobEvent;
import dev.shepherd.model.JobState;
import dev.shepherd.model.StatusEvent;
import dev.shepherd.testsupport.PrivateRedis;
import dev.shepherd.testsupport.PrivateRedisCluster;
import dev.shepherd.testsupport.ServiceEndpoints;
import dev.shepherd.testsupport.SettableClock;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.springframework.dao.TransientDataAccessResourceException;
import org.springframework.data.redis.core.StringRedisTemplate;

/**
 * What a Redis Cluster failover can lose, shown on purpose (issue 20). Replication is asynchronous:
 * a master acknowledges a write before its replica has it, so a replica promoted after the master
 * died may lack the master's last writes. Each test cuts the replica off its master ({@link
 * PrivateRedisCluster#cutOff}), writes to the master, kills the master and lets the thawed replica
 * take over, so the write is certainly lost.
 */
class RedisClusterFailoverIT {

  private static final Duration TTL = Duration.ofSeconds(30);

  /**
   * A claim the promoted replica never saw is never followed by the same fencing token: the next
   * claim's token comes from the new master's clock ({@code max(stored + 1, TIME µs)}, ADR 3), so
   * the lost attempt's worker, still running, cannot report as the new one. With tokens counted
   * from the stored one alone ({@code stored + 1}) both claims get the same token and this fails.
   */
  @Test
  void aClaimTheNewMasterNeverSawIsNeverFollowedByTheSameFencingToken() {
    onAFailover(
        store -> new Written(queuedJob(store), 0),
        (store, before) -> {
          var lost = (ClaimResult.Claimed) store.leases().claim(before.id(), 1, "worker-lost", TTL);
          return new Written(before.id(), lost.fencingToken());
        },
        (store, written) -> {
          String id = written.id();
          long lostToken = written.value();
          var job = store.queries().find(id).orElseThrow();
          assertThat(job.state()).as("the claim was lost").isEqualTo(JobState.QUEUED);
          assertThat(job.history()).noneMatch(h -> h.event() == JobEvent.CLAIM);

          long newToken =
              ((ClaimResult.Claimed) store.leases().claim(id, 1, "worker-new", TTL)).fencingToken();
          assertThat(newToken).isGreaterThan(lostToken);
          var lateReport =
              new StatusEvent.Succeeded(
                  id, "demo.noop", 1, lostToken, 1, "worker-lost", Instant.now());
          assertThat(store.reports().report(lateReport, Duration.ZERO).outcome())
              .isEqualTo(ReportResult.Outcome.STALE);
          assertThat(store.queries().find(id).orElseThrow().state()).isEqualTo(JobState.RUNNING);
        });
  }

  /**
   * An outcome the promoted replica never saw is lost with the master: the job is RUNNING again
   * under the attempt, token and lease it had, so the lease's expiry runs it again (at least once),
   * and the same outcome, should it come again, is still taken from that token.
   */
  @Test
  void anOutcomeTheNewMasterNeverSawLeavesTheJobRunningUnderItsAttemptsToken() {
    onAFailover(
        store -> {
          String id = queuedJob(store);
          long token =
              ((ClaimResult.Claimed) store.leases().claim(id, 1, "worker-a", TTL)).fencingToken();
          return new Written(id, token);
        },
        (store, before) -> {
          var succeeded =
              new StatusEvent.Succeeded(
                  before.id(), "demo.noop", 1, before.value(), 1, "worker-a", Instant.now());
          assertThat(store.reports().report(succeeded, Duration.ZERO).outcome())
              .isEqualTo(ReportResult.Outcome.APPLIED);
          return before;
        },
        (store, written) -> {
          var job = store.queries().find(written.id()).orElseThrow();
          assertThat(job.state()).as("the outcome was lost").isEqualTo(JobState.RUNNING);
          assertThat(job.attempt()).isEqualTo(1);
          var again =
              new StatusEvent.Succeeded(
                  written.id(), "demo.noop", 1, written.value(), 1, "worker-a", Instant.now());
          assertThat(store.reports().report(again, Duration.ZERO).outcome())
              .isEqualTo(ReportResult.Outcome.APPLIED);
          assertThat(store.queries().find(written.id()).orElseThrow().state())
              .isEqualTo(JobState.SUCCEEDED);
        });
  }

  /**
   * A submission the promoted replica never saw is lost with the master although it was
   * acknowledged: the job does not exist. This is what asynchronous replication costs (RELIABILITY:
   * "Redis Cluster or Sentinel failover"); the producer's idempotency key makes submitting it again
   * safe, but nothing in Shepherd can know it must.
   */
  @Test
  void anAcknowledgedSubmissionTheNewMasterNeverSawIsGone() {
    onAFailover(
        store -> new Written(null, 0),
        (store, before) -> new Written(queuedJob(store), 0),
        (store, written) -> assertThat(store.queries().find(written.id())).isEmpty());
  }

  /**
   * With {@code replicas-to-acknowledge} 1, a submission the replica has not acknowledged within
   * the timeout is refused (a transient failure the producer retries), not accepted and then lost
   * as above. The replica is only frozen, still connected: a {@code WAIT} sent on another
   * connection than the submission's would count it at once and accept the submission.
   */
  @Test
  void withAReplicaAskedASubmissionItDoesNotAcknowledgeIsRefusedNotAccepted() {
    try (var cluster = PrivateRedisCluster.launch()) {
      var endpoints = ServiceEndpoints.of(cluster);
      refusedWhileTheReplicaIsFrozen(
          endpoints, store -> cluster.replicaOf(cluster.masterOf(store.keys().base(0))));
    }
  }

  /** The same on one Redis with a replica (as under Sentinel): the shared connection's WAIT. */
  @Test
  void withAReplicaAskedOneRedisRefusesASubmissionItsReplicaDoesNotAcknowledge() {
    try (var master = PrivateRedis.launch();
        var replica = PrivateRedis.launchReplicaOf(master)) {
      var endpoints = ServiceEndpoints.redisOnly(URI.create("redis://" + master.address()), "-");
      refusedWhileTheReplicaIsFrozen(endpoints, store -> replica);
    }
  }

  private static void refusedWhileTheReplicaIsFrozen(
      ServiceEndpoints endpoints, java.util.function.Function<Store, PrivateRedis> replicaOf) {
    var factory = endpoints.newRedisConnectionFactory();
    try {
      var store =
          Store.of(
              new StringRedisTemplate(factory),
              new StoreSettings("replicated", 1, Duration.ofDays(1))
                  .withReplicasToAcknowledge(1, Duration.ofMillis(300)),
              new SettableClock(Instant.now()),
              new SimpleMeterRegistry());
      var job = new NewJob("demo.noop", "default", "{}", null, null, 3);
      // a replica just launched acknowledges nothing until its first sync is done (a clean-clone
      // run under load refused this first submission): wait until one is acknowledged
      await()
          .atMost(Duration.ofSeconds(60))
          .ignoreException(TransientDataAccessResourceException.class)
          .until(() -> store.submissions().submit(job).jobId() != null);
      PrivateRedis replica = replicaOf.apply(store);
      replica.freeze();
      try {
        assertThatThrownBy(() -> store.submissions().submit(job))
            .isInstanceOf(TransientDataAccessResourceException.class)
            .hasMessageContaining("0 of the 1 replicas")
            .hasMessageContaining("shepherd.store.replicas-to-acknowledge");
      } finally {
        replica.thaw();
      }
      assertThat(store.submissions().submit(job).jobId()).isNotBlank();
    } finally {
      factory.destroy();
    }
  }

  /** A job and a value (a fencing token) a step wrote or read. */
  private record Written(String id, long value) {}

  private interface Step {
    Written run(Store store, Written before);
  }

  private interface Check {
    void check(Store store, Written written);
  }

  /** A job queued for a worker: submitted, its work message published. */
  private static String queuedJob(Store store) {
    String id =
        store.submissions().submit(new NewJob("demo.noop", "default", "{}", null, null, 3)).jobId();
    List<DueEntry> due = store.outbox().reserveDue(0, 10, Duration.ofSeconds(30));
    store.outbox().markDispatched(0, due);
    return id;
  }

  /**
   * On a private cluster with one partition: {@code before}, replicated; the replica of the
   * partition's master frozen; {@code lost} on the master alone; the master killed, the replica
   * thawed and promoted; then {@code check}.
   */
  private static void onAFailover(
      java.util.function.Function<Store, Written> before, Step lost, Check check) {
    try (var cluster = PrivateRedisCluster.launch()) {
      var endpoints = ServiceEndpoints.of(cluster);
      var factory = endpoints.newRedisConnectionFactory();
      try {
        var store =
            Store.of(
                new StringRedisTemplate(factory),
                new StoreSettings("failover", 1, Duration.ofDays(1)),
                new SettableClock(Instant.now()),
                new SimpleMeterRegistry());
        Written first = before.apply(store);
        // connected, the topology known, before a node is frozen
        store.queries().find("00-x");
        PrivateRedis master = cluster.masterOf(store.keys().base(0));
        PrivateRedis replica = cluster.replicaOf(master);
        cluster.awaitReplicated(master, replica);
        cluster.cutOff(master, replica);
        long offset = PrivateRedisCluster.offset(master, "master_repl_offset");
        Written written = lost.run(store, first);
        assertThat(PrivateRedisCluster.offset(master, "master_repl_offset"))
            .as("the write reached the master")
            .isGreaterThan(offset);
        master.kill();
        replica.thaw();
        cluster.awaitHealthy(Duration.ofSeconds(60));
        assertThat(cluster.masterOf(store.keys().base(0)).port()).isEqualTo(replica.port());
        // the client learns of the new master at its next topology refresh (at most a second
        // after a command found no node for the slot); until then such a command fails at once,
        // and the services retry it
        await()
            .atMost(Duration.ofSeconds(15))
            .ignoreExceptions()
            .until(() -> store.queries().find(first.id() == null ? "00-x" : first.id()) != null);

        check.check(store, written);
      } finally {
        factory.destroy();
      }
    }
  }
}
