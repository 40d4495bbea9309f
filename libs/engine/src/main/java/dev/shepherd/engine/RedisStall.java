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
   * #SLOW} or longer.
   *
   * @param call what the call did, for the message
   */
  public static void endPassIfSlow(long beganNanos, String call) {
    long took = System.nanoTime() - beganNanos;
    if (took >= SLOW.toNanos()) {
      throw new RedisStall(call, Duration.ofNanos(took));
    }
  }
}
