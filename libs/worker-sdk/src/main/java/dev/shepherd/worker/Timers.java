package dev.shepherd.worker;

import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;

/** The worker's timer threads: one daemon thread each, named for what it times. */
final class Timers {

  private Timers() {}

  /**
   * A single-thread scheduler on a daemon platform thread, so a timer never keeps a stopping JVM
   * alive and shows by name in a thread dump.
   */
  static ScheduledExecutorService daemon(String threadName) {
    return Executors.newSingleThreadScheduledExecutor(
        r -> Thread.ofPlatform().name(threadName).daemon().unstarted(r));
  }
}
