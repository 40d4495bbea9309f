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
 * @param leaseTtl how long a claim holds without renewal; workers renew every third of it
 * @param retryInitialBackoff the ceiling of the first retry's wait (doubles per attempt)
 * @param retryMaxBackoff the largest ceiling of a retry's wait
 * @param workerHeartbeat how often workers write their registry entry
 * @param workerLostAfter a worker silent this long is lost and its leases are released
 */
@ConfigurationProperties("shepherd.store")
public record StoreProperties(
    String prefix,
    Integer partitions,
    Duration retention,
    Duration leaseTtl,
    Duration retryInitialBackoff,
    Duration retryMaxBackoff,
    Duration workerHeartbeat,
    Duration workerLostAfter) {

  public StoreProperties {
    prefix = prefix == null ? "shepherd" : prefix;
    partitions = partitions == null ? StoreSettings.DEFAULT_PARTITIONS : partitions;
    retention = retention == null ? Duration.ofDays(7) : retention;
    leaseTtl = leaseTtl == null ? Duration.ofSeconds(30) : leaseTtl;
    retryInitialBackoff = retryInitialBackoff == null ? Duration.ofSeconds(1) : retryInitialBackoff;
    retryMaxBackoff = retryMaxBackoff == null ? Duration.ofMinutes(5) : retryMaxBackoff;
    workerHeartbeat = workerHeartbeat == null ? Duration.ofSeconds(5) : workerHeartbeat;
    workerLostAfter = workerLostAfter == null ? workerHeartbeat.multipliedBy(6) : workerLostAfter;
    if (leaseTtl.toMillis() < 300) {
      throw new IllegalArgumentException("shepherd.store.lease-ttl must be at least 300ms");
    }
  }

  public StoreSettings settings() {
    return new StoreSettings(prefix, partitions, retention);
  }

  public RetryPolicy retryPolicy() {
    return new RetryPolicy(retryInitialBackoff, retryMaxBackoff);
  }
}
