package dev.shepherd.worker;

import dev.shepherd.messaging.InfrastructurePause;
import java.time.Duration;

/**
 * How one worker runs.
 *
 * <pre>{@code
 * var settings = new WorkerSettings("worker-1", "default", 4, Duration.ofSeconds(30));
 * settings.renewEvery(); // PT10S
 * }</pre>
 *
 * @param workerId this worker's id, in leases, events and logs; unique among running workers
 * @param pool the worker pool whose queue this worker consumes
 * @param capacity jobs this worker runs at once; also its number of consumers (prefetch 1 each)
 * @param leaseTtl how long a claim holds without renewal; renewed every third of it
 * @param podName the Kubernetes pod this worker runs in, or null off Kubernetes
 * @param heartbeat how often the worker writes its registry entry
 * @param outcomeHold how long a published outcome keeps its lease while waiting to be applied
 * @param ackHold how long a claimed delivery stays unacked while its job runs (ADR 17): a job over
 *     within it costs no cancel and no new subscription; a longer one has its consumer cancelled
 *     and its delivery acked when it passes. Positive, and at most {@link #MAX_ACK_HOLD}, far below
 *     the broker's consumer timeout (30 min by default)
 * @param cancelGrace how long a handler whose job was cancelled by request may go on after {@link
 *     JobContext#isCancelled()} turned true before its thread is interrupted: a cooperative handler
 *     cleans up without an interrupt breaking its I/O. Zero interrupts at once; not negative
 * @param noHandlerPause how long a slot holds a delivery whose job type it has no handler for
 *     before giving it back: given back at once, it could come straight back to this worker while
 *     the others are busy and use up the queue's delivery limit in milliseconds; held, it lets a
 *     worker that has the handler free a slot. Not negative
 * @param outcomePublishTries how many times an attempt's outcome is published before the worker
 *     gives up and lets the lease expire (at least 1)
 * @param outcomePublishBackoff the wait after the first failed publish of an outcome, doubled after
 *     each further one (positive)
 * @param outcomePublishMaxBackoff the longest wait between two publishes of an outcome (at least
 *     {@code outcomePublishBackoff})
 * @param errorBackoff the first wait before a consumer subscribes again after losing its channel,
 *     or claims again after Redis failed, doubled after each further failure (positive)
 * @param errorMaxBackoff the longest such wait, so the worker notices within it that the broker or
 *     Redis is back (at least {@code errorBackoff})
 */
public record WorkerSettings(
    String workerId,
    String pool,
    int capacity,
    Duration leaseTtl,
    String podName,
    Duration heartbeat,
    Duration outcomeHold,
    Duration ackHold,
    Duration cancelGrace,
    Duration noHandlerPause,
    int outcomePublishTries,
    Duration outcomePublishBackoff,
    Duration outcomePublishMaxBackoff,
    Duration errorBackoff,
    Duration errorMaxBackoff) {

  /** How long a published outcome keeps its lease while waiting to be applied, by default. */
  public static final Duration DEFAULT_OUTCOME_HOLD = Duration.ofMinutes(5);

  /** How long a claimed delivery stays unacked while its job runs, by default. */
  public static final Duration DEFAULT_ACK_HOLD = Duration.ofSeconds(1);

  /**
   * The longest ack hold allowed: a delivery unacked past the broker's consumer timeout (30 min by
   * default) closes its channel, and the lease, not the delivery, owns a running job.
   */
  public static final Duration MAX_ACK_HOLD = Duration.ofMinutes(5);

  /** How long a handler cancelled by request may go on before it is interrupted, by default. */
  public static final Duration DEFAULT_CANCEL_GRACE = Duration.ofSeconds(10);

  /** How long a delivery with no handler is held before it goes back, by default. */
  public static final Duration DEFAULT_NO_HANDLER_PAUSE = Duration.ofSeconds(2);

  /**
   * Tries of an outcome's publish, by default: with the default backoffs about a minute while the
   * lease is renewed, long enough for a broker to restart (about ten seconds) or fail over, so the
   * work already done is not thrown away.
   */
  public static final int DEFAULT_OUTCOME_PUBLISH_TRIES = 20;

  /** The first wait between two publishes of an outcome, by default. */
  public static final Duration DEFAULT_OUTCOME_PUBLISH_BACKOFF = Duration.ofMillis(250);

  /** The longest wait between two publishes of an outcome, by default. */
  public static final Duration DEFAULT_OUTCOME_PUBLISH_MAX_BACKOFF = Duration.ofSeconds(4);

  /** The first wait after a lost consumer or a failed claim, by default. */
  public static final Duration DEFAULT_ERROR_BACKOFF = Duration.ofMillis(100);

  /** The longest wait after a lost consumer or a failed claim, by default. */
  public static final Duration DEFAULT_ERROR_MAX_BACKOFF = Duration.ofSeconds(5);

  /** Settings off Kubernetes, with a five-second heartbeat. */
  public WorkerSettings(String workerId, String pool, int capacity, Duration leaseTtl) {
    this(
        workerId,
        pool,
        capacity,
        leaseTtl,
        null,
        Duration.ofSeconds(5),
        DEFAULT_OUTCOME_HOLD,
        DEFAULT_ACK_HOLD,
        DEFAULT_CANCEL_GRACE,
        DEFAULT_NO_HANDLER_PAUSE,
        DEFAULT_OUTCOME_PUBLISH_TRIES,
        DEFAULT_OUTCOME_PUBLISH_BACKOFF,
        DEFAULT_OUTCOME_PUBLISH_MAX_BACKOFF,
        DEFAULT_ERROR_BACKOFF,
        DEFAULT_ERROR_MAX_BACKOFF);
  }

  public WorkerSettings {
    if (workerId == null || workerId.isBlank() || workerId.contains("|")) {
      // '|' separates the worker from the token in the lease value
      throw new IllegalArgumentException("workerId must be non-blank and free of '|'");
    }
    if (pool == null || pool.isBlank()) {
      throw new IllegalArgumentException("pool must be non-blank");
    }
    if (capacity < 1) {
      throw new IllegalArgumentException("capacity must be >= 1, was " + capacity);
    }
    if (leaseTtl == null || leaseTtl.toMillis() < 3) {
      throw new IllegalArgumentException("leaseTtl must be at least 3ms, was " + leaseTtl);
    }
    if (heartbeat == null || heartbeat.isNegative() || heartbeat.isZero()) {
      throw new IllegalArgumentException("heartbeat must be positive, was " + heartbeat);
    }
    if (outcomeHold == null || outcomeHold.isNegative()) {
      throw new IllegalArgumentException("outcomeHold must not be negative, was " + outcomeHold);
    }
    if (ackHold == null
        || ackHold.isNegative()
        || ackHold.isZero()
        || ackHold.compareTo(MAX_ACK_HOLD) > 0) {
      throw new IllegalArgumentException(
          "ackHold must be positive and at most " + MAX_ACK_HOLD + ", was " + ackHold);
    }
    if (cancelGrace == null || cancelGrace.isNegative()) {
      throw new IllegalArgumentException("cancelGrace must not be negative, was " + cancelGrace);
    }
    if (noHandlerPause == null || noHandlerPause.isNegative()) {
      throw new IllegalArgumentException(
          "noHandlerPause must not be negative, was " + noHandlerPause);
    }
    if (outcomePublishTries < 1) {
      throw new IllegalArgumentException(
          "outcomePublishTries must be >= 1, was " + outcomePublishTries);
    }
    requireBackoff(
        "outcomePublishBackoff",
        outcomePublishBackoff,
        "outcomePublishMaxBackoff",
        outcomePublishMaxBackoff);
    requireBackoff("errorBackoff", errorBackoff, "errorMaxBackoff", errorMaxBackoff);
  }

  /**
   * Checks a backoff, naming its settings in the message: the first wait positive, the longest at
   * least the first. For {@code WorkerProperties}, which names the properties.
   *
   * @throws IllegalArgumentException when the backoff is null or not so
   */
  public static void requireBackoff(
      String firstName, Duration first, String maxName, Duration max) {
    if (first == null
        || max == null
        || first.isNegative()
        || first.isZero()
        || max.compareTo(first) < 0) {
      throw new IllegalArgumentException(
          firstName
              + " must be positive and at most "
              + maxName
              + ", was "
              + first
              + " and "
              + max);
    }
  }

  /** The same settings with another ack hold. */
  public WorkerSettings withAckHold(Duration hold) {
    return with(hold, cancelGrace);
  }

  /** The same settings with another cancel grace. */
  public WorkerSettings withCancelGrace(Duration grace) {
    return with(ackHold, grace);
  }

  private WorkerSettings with(Duration ackHold, Duration cancelGrace) {
    return new WorkerSettings(
        workerId,
        pool,
        capacity,
        leaseTtl,
        podName,
        heartbeat,
        outcomeHold,
        ackHold,
        cancelGrace,
        noHandlerPause,
        outcomePublishTries,
        outcomePublishBackoff,
        outcomePublishMaxBackoff,
        errorBackoff,
        errorMaxBackoff);
  }

  /** The waits of a consumer that lost its channel, or of a claim that Redis failed. */
  InfrastructurePause.Backoff errorBackoffs() {
    return new InfrastructurePause.Backoff(errorBackoff, errorMaxBackoff);
  }

  /** How often a running job's lease is renewed: a third of its TTL, so two renewals may fail. */
  public Duration renewEvery() {
    return leaseTtl.dividedBy(3);
  }
}
