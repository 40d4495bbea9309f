package dev.shepherd.e2e;

import static org.awaitility.Awaitility.await;

import dev.shepherd.client.ShepherdClient;
import dev.shepherd.model.JobSubmission;
import dev.shepherd.model.Json;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Submits {@code total} jobs at a steady pace while a test breaks the cluster. Each job has its own
 * idempotency key and is retried with it until the scheduler accepts it, so a submission whose
 * answer was lost (scheduler killed, Redis restarting) is never counted twice: a job counts as
 * accepted once a 200 or 202 names its id.
 */
final class SteadySubmitter implements AutoCloseable {

  private final ShepherdClient client;
  private final String keyPrefix;
  private final int total;
  private final Duration pace;
  private final int phaseMillis;
  private final int maxAttempts;
  private final List<String> accepted = Collections.synchronizedList(new ArrayList<>());
  private final AtomicLong refusedTries = new AtomicLong();
  private final Thread thread;
  private volatile boolean running = true;

  SteadySubmitter(
      ShepherdClient client,
      String keyPrefix,
      int total,
      Duration pace,
      int phaseMillis,
      int maxAttempts) {
    this.client = client;
    this.keyPrefix = keyPrefix;
    this.total = total;
    this.pace = pace;
    this.phaseMillis = phaseMillis;
    this.maxAttempts = maxAttempts;
    this.thread = Thread.ofPlatform().name("steady-submitter").daemon().start(this::run);
  }

  private void run() {
    for (int i = 0; i < total && running; i++) {
      var payload =
          Json.mapper().createObjectNode().put("site", "s" + i).put("phaseMillis", phaseMillis);
      var submission =
          JobSubmission.of("site.generate", payload)
              .withIdempotencyKey(keyPrefix + "-" + i)
              .withMaxAttempts(maxAttempts);
      while (running) {
        try {
          accepted.add(client.submit(submission).jobId());
          break;
        } catch (RuntimeException e) {
          refusedTries.incrementAndGet(); // scheduler down or Redis restarting: same key again
          pause(Duration.ofMillis(250));
        }
      }
      pause(pace);
    }
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
        .failFast("the submitter stopped", () -> !thread.isAlive() && accepted.size() < count)
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

  /** Tries refused or unanswered (and retried with the same key). */
  long refusedTries() {
    return refusedTries.get();
  }

  @Override
  public void close() {
    running = false;
    thread.interrupt();
  }
}
