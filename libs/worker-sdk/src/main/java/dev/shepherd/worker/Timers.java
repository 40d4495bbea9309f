package dev.shepherd.worker;

import java.time.Duration;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;

/** The worker's timer threads: one daemon thread each, named for what it times. */
final class Timers {

  private Timers() {}

  /**
   * A single-thread scheduler on a daemon platform thread, so a timer never keeps a stopping JVM
   * alive and shows by name in a thread dump. A task cancelled before its time leaves the queue at
   * once: left in it, each would wake the timer's thread when its time came (one wake-up per job
   * for a timer set per job) and hold its memory until then.
   */
  static ScheduledExecutorService daemon(String threadName) {
    var timer =
        new ScheduledThreadPoolExecutor(
            1, r -> Thread.ofPlatform().name(threadName).daemon().unstarted(r));
    timer.setRemoveOnCancelPolicy(true);
    return timer;
  }

  /**
   * The period of a periodic check that stands in for a timer per job: {@code of} divided by {@code
   * parts}, at most {@code longest} and at least a millisecond.
   */
  static Duration checkPeriod(Duration of, int parts, Duration longest) {
    Duration part = of.dividedBy(parts);
    if (part.compareTo(longest) > 0) {
      return longest;
    }
    return part.compareTo(Duration.ofMillis(1)) < 0 ? Duration.ofMillis(1) : part;
  }
}
