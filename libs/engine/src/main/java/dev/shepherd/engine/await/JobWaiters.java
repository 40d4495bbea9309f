package dev.shepherd.engine.await;

import dev.shepherd.model.JobState;
import dev.shepherd.model.JobView;
import dev.shepherd.store.JobQueries;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Consumer;

/**
 * Clients waiting for jobs to finish, told by a push instead of polling (issue 18, item 4): a
 * waiter is registered, then the job is marked awaited in Redis ({@link JobQueries#await}), so the
 * script that ends it publishes its id ({@code ScriptSignals}), and {@link #finished} hands the
 * job's final view to every waiter of it. Registering before marking leaves no gap: an end
 * published after the mark finds the waiter. A job finished already is answered at once.
 */
public final class JobWaiters implements AutoCloseable {

  /** One client's wait; {@link #cancel()} when it goes away first (timeout, disconnect). */
  public final class Waiter {
    private final String jobId;
    private final Consumer<JobView> onEnd;

    private Waiter(String jobId, Consumer<JobView> onEnd) {
      this.jobId = jobId;
      this.onEnd = onEnd;
    }

    public void cancel() {
      waiting.computeIfPresent(
          jobId,
          (id, waiters) -> {
            waiters.remove(this);
            return waiters.isEmpty() ? null : waiters;
          });
    }
  }

  private final JobQueries queries;
  private final ConcurrentHashMap<String, Set<Waiter>> waiting = new ConcurrentHashMap<>();
  // the final view is read from Redis off the subscription's thread
  private final ExecutorService readers = Executors.newVirtualThreadPerTaskExecutor();

  public JobWaiters(JobQueries queries) {
    this.queries = queries;
  }

  /**
   * Waits for the job's end: {@code onEnd} gets its final view once (at once when it has finished
   * already), on another thread. Empty when there is no such job.
   */
  public Optional<Waiter> await(String jobId, Consumer<JobView> onEnd) {
    Waiter waiter = new Waiter(jobId, onEnd);
    waiting.computeIfAbsent(jobId, id -> ConcurrentHashMap.newKeySet()).add(waiter);
    Optional<JobState> state = queries.await(jobId);
    if (state.isEmpty()) {
      waiter.cancel();
      return Optional.empty();
    }
    if (state.get().isTerminal()) {
      finished(jobId);
    }
    return Optional.of(waiter);
  }

  /** A script announced the end of an awaited job: its waiters get its final view. */
  public void finished(String jobId) {
    Set<Waiter> waiters = waiting.remove(jobId);
    if (waiters == null) {
      return; // another scheduler's client, or one gone already
    }
    readers.execute(
        () ->
            queries
                .find(jobId)
                .ifPresent(view -> waiters.forEach(waiter -> waiter.onEnd.accept(view))));
  }

  /** How many clients wait now. */
  public int waiting() {
    return waiting.values().stream().mapToInt(Set::size).sum();
  }

  @Override
  public void close() {
    readers.shutdownNow();
  }
}
