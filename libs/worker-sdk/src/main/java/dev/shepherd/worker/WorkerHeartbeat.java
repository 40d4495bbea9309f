package dev.shepherd.worker;

import dev.shepherd.model.WorkerView;
import dev.shepherd.store.AnnouncedType;
import dev.shepherd.store.WorkerRegistry;
import java.io.IOException;
import java.net.InetAddress;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes the worker's registry entry ({@link WorkerView}: id, host, pod, pool, capacity, version,
 * state) at start, every {@link WorkerSettings#heartbeat()} after, and when the worker starts to
 * drain; removes it when the worker stops. Recovery notices a worker whose entry goes stale. A
 * failed write is logged and tried again at the next beat. The worker's job types are announced
 * with each beat once its pool's queue routes them ({@link #routed()}), not before.
 *
 * <p>Heartbeats have a thread of their own: lease renewals have theirs ({@link LeaseKeeper}), so a
 * heartbeat stuck in a Redis time-out never delays a renewal or the stop of a handler.
 */
final class WorkerHeartbeat implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(WorkerHeartbeat.class);

  private final WorkerSettings settings;
  private final WorkerRegistry registry;
  private final Instant startedAt;
  private final ScheduledExecutorService scheduler;
  private final List<AnnouncedType> types;
  private volatile String state = WorkerView.ACTIVE;
  private volatile boolean routed;

  /**
   * @param clock the time the worker started, in its entry
   */
  WorkerHeartbeat(
      WorkerSettings settings, WorkerRegistry registry, List<AnnouncedType> types, Clock clock) {
    this.settings = settings;
    this.types = List.copyOf(types);
    this.registry = registry;
    this.startedAt = clock.instant();
    this.scheduler = Timers.daemon("shepherd-heartbeat");
  }

  /** Writes the entry now and every heartbeat from now on. */
  void start() {
    beat();
    long every = Math.max(1, settings.heartbeat().toMillis());
    scheduler.scheduleAtFixedRate(this::beat, every, every, TimeUnit.MILLISECONDS);
  }

  /**
   * The pool's queue routes the worker's types now: from this beat on, each one announces them too
   * (ADR 35), so the scheduler publishes none that the broker cannot route yet.
   */
  void routed() {
    routed = true;
    try {
      scheduler.execute(this::beat);
    } catch (RejectedExecutionException stopped) {
      // the worker stopped before its queue was there: nothing to announce
    }
  }

  /** Writes the entry as draining, now. */
  void draining() {
    state = WorkerView.DRAINING;
    beat();
  }

  /** Stops the beats and removes the entry. */
  @Override
  public void close() {
    scheduler.shutdownNow();
    try {
      registry.remove(settings.workerId());
    } catch (RuntimeException e) {
      log.warn(
          "could not remove worker {} from the registry: {}", settings.workerId(), e.toString());
    }
  }

  private void beat() {
    try {
      registry.heartbeat(
          new WorkerView(
              settings.workerId(),
              host(),
              settings.podName(),
              settings.pool(),
              settings.capacity(),
              WorkerRuntime.class.getPackage().getImplementationVersion(),
              state,
              startedAt,
              null,
              null,
              types.stream().map(AnnouncedType::type).sorted().toList()));
      // the types with it, each beat: a Redis that lost them (a fail-over, a flush) has them back
      // within one beat, and the scheduler judges an announcement by its age
      if (routed) {
        registry.jobTypes().announce(settings.workerId(), settings.pool(), types);
      }
    } catch (RuntimeException e) {
      log.warn("heartbeat of worker {} failed: {}", settings.workerId(), e.toString());
    }
  }

  private static String host() {
    try {
      return InetAddress.getLocalHost().getHostName();
    } catch (IOException e) {
      return "unknown";
    }
  }
}
