package dev.shepherd.engine;

import java.time.Duration;

/**
 * A Redis call in a recovery pass took so long that Redis stalled or was away meanwhile (frozen,
 * restarting, loading, swapping): the pass ends here. What it read is as of the call's end, while
 * the workers' renewals, marks and heartbeats that the outage held back are still on their way, so
 * judging leases, heartbeats or timeouts by it would take back jobs from workers that are fine.
 * Thrown after the call's own result is handled; the pass's {@link WorkLoop} then waits until Redis
 * answers promptly and for its settle period before the next pass ({@link WorkLoop.Settle}).
 *
 * <p>A call that was sent before the stall and ran after it judged by the time it was sent (every
 * judging script takes {@code now} as an argument): a lease renewed on time has two thirds of its
 * TTL left at any moment, so such a call cannot take it back.
 */
public final class RedisStall extends RuntimeException {

  /** A call that takes this long means Redis stalled: a healthy one answers in milliseconds. */
  public static final Duration SLOW = Duration.ofSeconds(1);

  /**
   * What counts as a stall on this thread: {@link #SLOW}, or more while Redis answers every call
   * slowly but does answer ({@link WorkLoop} raises it for its pass then, so that recovery still
   * judges, at the pace Redis allows, instead of never).
   */
  private static final ThreadLocal<Duration> threshold = ThreadLocal.withInitial(() -> SLOW);

  private RedisStall(String call, Duration took) {
    super(
        call
            + " took "
            + took.toMillis()
            + " ms: Redis stalled or was away; ending the pass so that the workers catch up"
            + " before anything is judged again",
        null,
        false,
        false);
  }

  /**
   * Ends the pass if the call begun at {@code beganNanos} ({@link System#nanoTime()}) took {@link
   * #SLOW} or longer (or the raised threshold of a loop that found Redis slow throughout).
   *
   * @param call what the call did, for the message
   */
  public static void endPassIfSlow(long beganNanos, String call) {
    long took = System.nanoTime() - beganNanos;
    if (took >= threshold.get().toNanos()) {
      throw new RedisStall(call, Duration.ofNanos(took));
    }
  }

  /** Runs {@code pass} on this thread with {@code stall} as what counts as a stall. */
  static int within(Duration stall, java.util.function.IntSupplier pass) {
    Duration before = threshold.get();
    threshold.set(stall);
    try {
      return pass.getAsInt();
    } finally {
      threshold.set(before);
    }
  }
}
