package dev.shepherd.worker.config;

import dev.shepherd.worker.WorkerSettings;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.security.SecureRandom;
import java.time.Duration;
import org.springframework.boot.context.properties.ConfigurationProperties;

/**
 * The worker's settings ({@code shepherd.worker.*}); the lease TTL is the store's ({@code
 * shepherd.store.lease-ttl}), since every service must agree on it.
 *
 * <pre>{@code
 * shepherd:
 *   worker:
 *     pool: reports
 *     capacity: 8
 *     shutdown-grace: 60s
 * }</pre>
 *
 * @param id this worker's id, in leases, events and logs; defaults to {@code <host>-<pid>-<4 random
 *     chars>}, unique even when two workers share a host and a pid namespace
 * @param pool the worker pool whose queue it consumes (default {@code default})
 * @param capacity jobs it runs at once (default 4, at least 1)
 * @param shutdownGrace how long a stopping worker lets running jobs finish before it releases their
 *     leases (default 30s)
 * @param podName the Kubernetes pod it runs in (the chart sets it from the downward API), so
 *     recovery can release its leases the moment the pod is gone
 * @param outcomeHold how long a job's lease is still renewed after its outcome was published, while
 *     the status-tracker has not applied it yet (default 5m): a lagging or restarting tracker does
 *     not make finished jobs run again
 * @param ackHold how long a claimed delivery stays unacked while its job runs (default 1s;
 *     positive, at most 5m): a job over within it costs no consumer cancel and no new subscription,
 *     a longer one has its delivery acked when the hold passes (ADR 17)
 * @param cancelGrace how long a handler whose job was cancelled may go on after {@code
 *     isCancelled()} turned true before its thread is interrupted (default 10s; 0 interrupts at
 *     once, not negative)
 * @param noHandlerPause how long a delivery of a job type this worker has no handler for is held
 *     before it goes back to the queue for another worker of the pool (default 2s, not negative)
 * @param outcomePublishTries how many times a finished job's outcome is published before the worker
 *     gives up and lets the lease expire, so the job runs again (default 20, at least 1)
 * @param outcomePublishBackoff the wait after the first failed publish of an outcome, doubled after
 *     each further one (default 250ms, positive)
 * @param outcomePublishMaxBackoff the longest wait between two publishes of an outcome (default 4s,
 *     at least {@code outcome-publish-backoff})
 * @param errorBackoff the first wait before a consumer subscribes again after losing its channel,
 *     or claims again after Redis failed, doubled after each further failure (default 100ms,
 *     positive)
 * @param errorMaxBackoff the longest such wait (default 5s, at least {@code error-backoff})
 */
@ConfigurationProperties("shepherd.worker")
public record WorkerProperties(
    String id,
    String pool,
    Integer capacity,
    Duration shutdownGrace,
    String podName,
    Duration outcomeHold,
    Duration ackHold,
    Duration cancelGrace,
    Duration noHandlerPause,
    Integer outcomePublishTries,
    Duration outcomePublishBackoff,
    Duration outcomePublishMaxBackoff,
    Duration errorBackoff,
    Duration errorMaxBackoff) {

  private static final String ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789";
  private static final SecureRandom RANDOM = new SecureRandom();

  public WorkerProperties {
    id = id == null || id.isBlank() ? defaultId() : id;
    pool = pool == null || pool.isBlank() ? "default" : pool;
    capacity = capacity == null ? 4 : capacity;
    shutdownGrace = shutdownGrace == null ? Duration.ofSeconds(30) : shutdownGrace;
    outcomeHold = outcomeHold == null ? WorkerSettings.DEFAULT_OUTCOME_HOLD : outcomeHold;
    ackHold = ackHold == null ? WorkerSettings.DEFAULT_ACK_HOLD : ackHold;
    cancelGrace = cancelGrace == null ? WorkerSettings.DEFAULT_CANCEL_GRACE : cancelGrace;
    noHandlerPause =
        noHandlerPause == null ? WorkerSettings.DEFAULT_NO_HANDLER_PAUSE : noHandlerPause;
    outcomePublishTries =
        outcomePublishTries == null
            ? WorkerSettings.DEFAULT_OUTCOME_PUBLISH_TRIES
            : outcomePublishTries;
    outcomePublishBackoff =
        outcomePublishBackoff == null
            ? WorkerSettings.DEFAULT_OUTCOME_PUBLISH_BACKOFF
            : outcomePublishBackoff;
    outcomePublishMaxBackoff =
        outcomePublishMaxBackoff == null
            ? WorkerSettings.DEFAULT_OUTCOME_PUBLISH_MAX_BACKOFF
            : outcomePublishMaxBackoff;
    errorBackoff = errorBackoff == null ? WorkerSettings.DEFAULT_ERROR_BACKOFF : errorBackoff;
    errorMaxBackoff =
        errorMaxBackoff == null ? WorkerSettings.DEFAULT_ERROR_MAX_BACKOFF : errorMaxBackoff;
    if (capacity < 1) {
      throw new IllegalArgumentException("shepherd.worker.capacity must be >= 1, was " + capacity);
    }
    if (id.contains("|")) {
      throw new IllegalArgumentException("shepherd.worker.id must not contain '|', was " + id);
    }
    if (shutdownGrace.isNegative()) {
      throw new IllegalArgumentException(
          "shepherd.worker.shutdown-grace must not be negative, was " + shutdownGrace);
    }
    if (ackHold.isNegative()
        || ackHold.isZero()
        || ackHold.compareTo(WorkerSettings.MAX_ACK_HOLD) > 0) {
      throw new IllegalArgumentException(
          "shepherd.worker.ack-hold must be positive and at most "
              + WorkerSettings.MAX_ACK_HOLD
              + " (far below the broker's consumer timeout), was "
              + ackHold);
    }
    if (cancelGrace.isNegative()) {
      throw new IllegalArgumentException(
          "shepherd.worker.cancel-grace must not be negative, was " + cancelGrace);
    }
    if (noHandlerPause.isNegative()) {
      throw new IllegalArgumentException(
          "shepherd.worker.no-handler-pause must not be negative, was " + noHandlerPause);
    }
    if (outcomePublishTries < 1) {
      throw new IllegalArgumentException(
          "shepherd.worker.outcome-publish-tries must be >= 1, was " + outcomePublishTries);
    }
    WorkerSettings.requireBackoff(
        "shepherd.worker.outcome-publish-backoff",
        outcomePublishBackoff,
        "shepherd.worker.outcome-publish-max-backoff",
        outcomePublishMaxBackoff);
    WorkerSettings.requireBackoff(
        "shepherd.worker.error-backoff",
        errorBackoff,
        "shepherd.worker.error-max-backoff",
        errorMaxBackoff);
  }

  /** {@code <host>-<pid>-<4 random chars>}. */
  static String defaultId() {
    StringBuilder suffix = new StringBuilder();
    for (int i = 0; i < 4; i++) {
      suffix.append(ALPHABET.charAt(RANDOM.nextInt(ALPHABET.length())));
    }
    return host() + "-" + ProcessHandle.current().pid() + "-" + suffix;
  }

  private static String host() {
    String fromEnv = System.getenv("HOSTNAME"); // the pod name on Kubernetes
    if (fromEnv != null && !fromEnv.isBlank()) {
      return fromEnv;
    }
    try {
      return InetAddress.getLocalHost().getHostName();
    } catch (UnknownHostException e) {
      return "worker";
    }
  }
}
