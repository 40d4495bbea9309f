package dev.shepherd.worker;

import dev.shepherd.model.StatusEvent;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where the reports of attempts that run on a backend (ADR 45) wait for the handler that holds
 * them: one mailbox per attempt this worker runs remotely, by job id and fencing token. The backend
 * reports to the scheduler, which checks each callback and forwards its events to the worker as a
 * {@code NOTIFY} order ({@link dev.shepherd.model.WorkerControl#notify}); {@link ControlOrders}
 * {@linkplain #deliver delivers} them here, and the attempt's {@link DistributedHandler} takes them
 * in order.
 *
 * <p>A mailbox is {@linkplain #open opened} before the backend is asked to run the task, since its
 * first report may come before the run's answer, and closed when the handler ends; events for an
 * attempt without an open mailbox (over, or another claim of the job) are dropped. Each mailbox
 * takes an event only if its sequence number is above every one it took before, so a callback the
 * backend sent twice, or that arrived after a later one, changes nothing.
 *
 * <pre>{@code
 * try (RemoteReports.Mailbox mailbox = reports.open(job.jobId(), job.fencingToken())) {
 *   distributor.run(request);
 *   StatusEvent next = mailbox.take(Duration.ofMillis(100)); // null when none came meanwhile
 * }
 * }</pre>
 */
public final class RemoteReports {

  private static final Logger log = LoggerFactory.getLogger(RemoteReports.class);

  private record AttemptKey(String jobId, long fencingToken) {}

  private final Map<AttemptKey, Mailbox> open = new ConcurrentHashMap<>();

  /**
   * Opens the mailbox of one attempt's reports; close it when the attempt's handler ends.
   *
   * @throws IllegalStateException when the attempt has one open already: one handler per attempt
   */
  public Mailbox open(String jobId, long fencingToken) {
    var key = new AttemptKey(jobId, fencingToken);
    var mailbox = new Mailbox(key);
    if (open.putIfAbsent(key, mailbox) != null) {
      throw new IllegalStateException(
          "job " + jobId + " fencing token " + fencingToken + " has a mailbox open already");
    }
    return mailbox;
  }

  /**
   * Hands the events a backend reported for one attempt to its mailbox.
   *
   * @return false when this worker has no mailbox open for that attempt: it does not run it (any
   *     more), and the events are dropped
   */
  public boolean deliver(String jobId, long fencingToken, List<StatusEvent> events) {
    Mailbox mailbox = open.get(new AttemptKey(jobId, fencingToken));
    if (mailbox == null) {
      return false;
    }
    mailbox.put(events == null ? List.of() : events);
    return true;
  }

  /** How many mailboxes are open now: the attempts this worker runs remotely. */
  public int openCount() {
    return open.size();
  }

  /** The reports of one attempt, in the order they are to be taken. */
  public final class Mailbox implements AutoCloseable {

    private final AttemptKey key;
    private final LinkedBlockingQueue<StatusEvent> events = new LinkedBlockingQueue<>();
    private long highestSequence; // guarded by this

    private Mailbox(AttemptKey key) {
      this.key = key;
    }

    /**
     * The next event, waiting up to {@code atMost} for one.
     *
     * @return null when none came within {@code atMost}
     */
    public StatusEvent take(Duration atMost) throws InterruptedException {
      return events.poll(atMost.toNanos(), TimeUnit.NANOSECONDS);
    }

    /** Stops taking reports: the attempt's handler is over. */
    @Override
    public void close() {
      open.remove(key, this);
    }

    private synchronized void put(List<StatusEvent> delivered) {
      for (StatusEvent event : delivered) {
        if (event == null) {
          continue;
        }
        if (!key.jobId().equals(event.jobId()) || key.fencingToken() != event.fencingToken()) {
          // the scheduler checked the claim; an event of another attempt in the order is a bug
          log.warn(
              "dropping {} #{} of job {} token {} delivered for job {} token {}",
              event.eventName(),
              event.sequence(),
              event.jobId(),
              event.fencingToken(),
              key.jobId(),
              key.fencingToken());
          continue;
        }
        if (event.sequence() <= highestSequence) {
          log.debug(
              "dropping {} #{} of job {}: #{} was taken already (a replayed or late callback)",
              event.eventName(),
              event.sequence(),
              key.jobId(),
              highestSequence);
          continue;
        }
        highestSequence = event.sequence();
        events.add(event);
      }
    }
  }
}
