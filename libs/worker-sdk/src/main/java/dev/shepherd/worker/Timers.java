package dev.shepherd.worker;

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
}
