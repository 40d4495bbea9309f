package dev.shepherd.store.config;

import dev.shepherd.model.RetryPolicy;
import dev.shepherd.store.StoreSettings;
import java.time.Duration;
import org.springframework.boot.context.properties.ConfigurationProperties;

/**
 * Redis-side settings shared by every service ({@code shepherd.store.*}).
 *
 * @param prefix first part of every Redis key
 * @param partitions partitions of the keyspace; must be the same for every service of one install
 * @param retention how long finished jobs are kept
 * @param deadRetention how long dead-job records, and the DEAD jobs they name, are kept (a
 *     discarded record from its discard); zero keeps them
 * @param leaseTtl how long a claim holds without renewal; workers renew every third of it
 * @param retryInitialBackoff the ceiling of the first retry's wait (doubles per attempt)
 * @param retryMaxBackoff the largest ceiling of a retry's wait
 * @param workerHeartbeat how often workers write their registry entry
 * @param workerLostAfter a worker silent this long is lost and its leases are released
 * @param lateOutcomeGrace how long a job whose last attempt was released waits for that attempt's
 *     published outcome before it goes DEAD (1 minute)
 * @param replicasToAcknowledge with Redis replicas (Cluster, Sentinel): how many must have a
 *     submission before it is accepted (0, the default: the master's reply; ADR 49)
 * @param replicationTimeout how long a submission waits for them before it is refused (1 s)
 * @param blockingClient the scripts on a job's path (submission, dispatch, claim, renewal, report)
 *     on a blocking client's own connections, on the calling thread ({@code true}, the default; ADR
 *     57); {@code false}: on Lettuce's shared connection, as every other call
 */
@ConfigurationProperties("shepherd.store")
public record StoreProperties(
    String prefix,
    Integer partitions,
    Duration retention,
    Duration deadRetention,
    Duration leaseTtl,
    Duration retryInitialBackoff,
    Duration retryMaxBackoff,
    Duration workerHeartbeat,
    Duration workerLostAfter,
    Duration lateOutcomeGrace,
    Integer replicasToAcknowledge,
    Duration replicationTimeout,
    Boolean blockingClient) {

  public StoreProperties {
    prefix = prefix == null ? "shepherd" : prefix;
    partitions = partitions == null ? StoreSettings.DEFAULT_PARTITIONS : partitions;
    retention = retention == null ? StoreSettings.DEFAULT_RETENTION : retention;
    deadRetention = deadRetention == null ? StoreSettings.DEFAULT_DEAD_RETENTION : deadRetention;
    if (retention.isNegative() || deadRetention.isNegative()) {
      throw new IllegalArgumentException(
          "shepherd.store.retention and shepherd.store.dead-retention must be zero or positive");
    }
    lateOutcomeGrace =
        lateOutcomeGrace == null ? StoreSettings.DEFAULT_LATE_OUTCOME_GRACE : lateOutcomeGrace;
    replicasToAcknowledge = replicasToAcknowledge == null ? 0 : replicasToAcknowledge;
    replicationTimeout =
        replicationTimeout == null ? StoreSettings.DEFAULT_REPLICATION_TIMEOUT : replicationTimeout;
    blockingClient = blockingClient == null || blockingClient;
    leaseTtl = leaseTtl == null ? Duration.ofSeconds(30) : leaseTtl;
    retryInitialBackoff = retryInitialBackoff == null ? Duration.ofSeconds(1) : retryInitialBackoff;
    retryMaxBackoff = retryMaxBackoff == null ? Duration.ofMinutes(5) : retryMaxBackoff;
    workerHeartbeat = workerHeartbeat == null ? Duration.ofSeconds(5) : workerHeartbeat;
    workerLostAfter = workerLostAfter == null ? workerHeartbeat.multipliedBy(6) : workerLostAfter;
    if (leaseTtl.toMillis() < 300) {
      throw new IllegalArgumentException("shepherd.store.lease-ttl must be at least 300ms");
    }
  }

  /**
   * The longest a Redis command may take before it fails: a quarter of the lease TTL, or {@code
   * configured} when that is shorter. A worker renews its leases every third of the TTL; a renewal
   * that hung for Lettuce's default minute would outlive the lease it renews, and the worker would
   * learn too late that another one runs its job. Every service uses it: a Redis node that stops
   * answering holds each command until this time-out (null {@code configured}: not set).
   */
  public Duration redisCommandTimeout(Duration configured) {
    Duration cap = leaseTtl.dividedBy(4);
    return configured == null || configured.compareTo(cap) > 0 ? cap : configured;
  }

  public StoreSettings settings() {
    return new StoreSettings(
        prefix,
        partitions,
        retention,
        deadRetention,
        lateOutcomeGrace,
        replicasToAcknowledge,
        replicationTimeout);
  }

  public RetryPolicy retryPolicy() {
    return new RetryPolicy(retryInitialBackoff, retryMaxBackoff);
  }
}
