package dev.shepherd.e2e;

import static org.awaitility.Awaitility.await;

import dev.shepherd.client.ShepherdClient;
import dev.shepherd.model.JobSubmission;
import dev.shepherd.model.Json;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.IntStream;

/**
 * Submits {@code total} jobs at a steady pace while a test breaks the cluster. Each job has its own
 * idempotency key and is retried with it until the scheduler accepts it, so a submission whose
 * answer was lost (scheduler killed, Redis restarting) is never counted twice: a job counts as
 * accepted once a 200 or 202 names its id. A script that breaks things step by step can hold it
 * back ({@link #allowUpTo(int)}), so that jobs are still to come when its last steps fire.
 */
final class SteadySubmitter implements AutoCloseable {

  private final ShepherdClient client;
  private final String keyPrefix;
  private final int total;
  private final Duration pace;
  private final int phaseMillis;
  private final int maxAttempts;
  private final int longEvery;
  private final int longPhaseMillis;
  private final Set<String> longJobs = ConcurrentHashMap.newKeySet();
  private final List<String> accepted = Collections.synchronizedList(new ArrayList<>());
  private final AtomicLong refusedTries = new AtomicLong();
  private final AtomicInteger next = new AtomicInteger(); // the index of the next job to submit
  private final List<Thread> threads;
  private volatile boolean running = true;
  private int allowed; // guarded by this: jobs [0, allowed) may be submitted

  SteadySubmitter(
      ShepherdClient client,
      String keyPrefix,
      int total,
      Duration pace,
      int phaseMillis,
      int maxAttempts) {
    this(client, keyPrefix, total, pace, phaseMillis, maxAttempts, 0, phaseMillis, total);
  }

  /**
   * @param longEvery every so many jobs (0 for none) is a long one, so that a fault can be aimed at
   *     a worker while it is surely running something
   * @param longPhaseMillis how long each of a long job's three phases takes
   * @param allowed how many it submits before it waits for {@link #allowUpTo(int)}
   */
  SteadySubmitter(
      ShepherdClient client,
      String keyPrefix,
      int total,
      Duration pace,
      int phaseMillis,
      int maxAttempts,
      int longEvery,
      int longPhaseMillis,
      int allowed) {
    this(
        client,
        keyPrefix,
        total,
        pace,
        phaseMillis,
        maxAttempts,
        longEvery,
        longPhaseMillis,
        allowed,
        1);
  }

  /**
   * @param producers how many threads submit side by side, each at {@code pace}: one waits for each
   *     answer before it sends the next, which caps it near a hundred jobs a second here, too few
   *     for a run of 100,000
   */
  SteadySubmitter(
      ShepherdClient client,
      String keyPrefix,
      int total,
      Duration pace,
      int phaseMillis,
      int maxAttempts,
      int longEvery,
      int longPhaseMillis,
      int allowed,
      int producers) {
    if (producers < 1) {
      throw new IllegalArgumentException("at least one producer, not " + producers);
    }
    this.allowed = allowed;
    this.longEvery = longEvery;
    this.longPhaseMillis = longPhaseMillis;
    this.client = client;
    this.keyPrefix = keyPrefix;
    this.total = total;
    this.pace = pace;
    this.phaseMillis = phaseMillis;
    this.maxAttempts = maxAttempts;
    this.threads =
        IntStream.rangeClosed(1, producers)
            .mapToObj(
                n -> Thread.ofPlatform().name("steady-submitter-" + n).daemon().start(this::run))
            .toList();
  }

  private void run() {
    for (int i = next.getAndIncrement(); i < total && running; i = next.getAndIncrement()) {
      if (!awaitAllowed(i)) {
        return;
      }
      boolean isLong = longEvery > 0 && i % longEvery == longEvery - 1;
      var payload =
          Json.mapper()
              .createObjectNode()
              .put("site", "s" + i)
              .put("phaseMillis", isLong ? longPhaseMillis : phaseMillis);
      var submission =
          JobSubmission.of("site.generate", payload)
              .withIdempotencyKey(keyPrefix + "-" + i)
              .withMaxAttempts(maxAttempts);
      while (running) {
        try {
          String id = client.submit(submission).jobId();
          if (isLong) {
            longJobs.add(id);
          }
          accepted.add(id);
          break;
        } catch (RuntimeException e) {
          refusedTries.incrementAndGet(); // scheduler down or Redis restarting: same key again
          pause(Duration.ofMillis(250));
        }
      }
      pause(pace);
    }
  }

  /** Lets it submit jobs up to {@code count} in all (never fewer than it was allowed before). */
  synchronized void allowUpTo(int count) {
    allowed = Math.max(allowed, count);
    notifyAll();
  }

  private synchronized boolean awaitAllowed(int index) {
    try {
      while (running && index >= allowed) {
        wait();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      running = false;
    }
    return running;
  }

  private void pause(Duration duration) {
    try {
      Thread.sleep(duration);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      running = false;
    }
  }

  /** Waits until at least {@code count} jobs were accepted. */
  void awaitAccepted(int count, Duration timeout) {
    await()
        .atMost(timeout)
        .failFast(
            "the submitter stopped",
            () -> threads.stream().noneMatch(Thread::isAlive) && accepted.size() < count)
        .until(() -> accepted.size() >= count);
  }

  /** Waits until every job was accepted. */
  void awaitAll(Duration timeout) {
    awaitAccepted(total, timeout);
  }

  List<String> accepted() {
    synchronized (accepted) {
      return List.copyOf(accepted);
    }
  }

  /** Whether this accepted job is one of the long ones. */
  boolean isLong(String jobId) {
    return longJobs.contains(jobId);
  }

  /** Tries refused or unanswered (and retried with the same key). */
  long refusedTries() {
    return refusedTries.get();
  }

  @Override
  public void close() {
    running = false;
    threads.forEach(Thread::interrupt);
  }
}
