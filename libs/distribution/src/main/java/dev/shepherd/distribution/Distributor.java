package dev.shepherd.distribution;

import dev.shepherd.model.StatusEvent;
import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * A backend that runs attempts: the one interface Shepherd talks to every backend through (ADR 44).
 * Implementations register by {@link #name()} in {@link Distributors}; a job type chooses one in
 * configuration, and the configuration it had when an attempt started ({@link
 * AttemptRequest#config}) is what every later call for that attempt works from.
 *
 * <p>Failures: a method throws {@link TransientDistributorException} for what may succeed if called
 * again (Shepherd retries it, up to a limit, through {@link DistributorCalls}) and {@link
 * PermanentDistributorException} for what will not. Any other exception is a bug and is not
 * retried.
 *
 * <p>An implementation holds no per-attempt state of its own: everything it needs comes from the
 * request, the stored configuration snapshot and the token, so any scheduler instance can make any
 * call.
 */
public interface Distributor {

  /** The unique name a job type's configuration chooses this distributor by ({@code http}). */
  String name();

  /**
   * Checks a job type's configuration at start-up, so a wrong endpoint fails the start with a clear
   * message instead of the first attempt.
   *
   * @throws InvalidDistributorConfigException naming {@code type}, every wrong setting and its rule
   */
  void validate(String type, DistributorConfig config);

  /**
   * Starts the task for one attempt.
   *
   * <p><b>Idempotent per attempt:</b> Shepherd calls run again when a call's answer was lost (a
   * timeout, a crash between the call and storing its token), so a second run for the same job,
   * attempt and fencing token must return the token of the task the first one started, never start
   * a second task. Derive the backend's name for the task from the attempt (a Kubernetes Job named
   * after it, an idempotency key on the POST) and treat "already exists" as success.
   *
   * @return the task's token and the limits it asks for, which Shepherd enforces as this attempt's
   *     timeouts
   * @throws PermanentDistributorException when the backend refuses the task; the attempt is
   *     rejected with the exception's message as its reason
   */
  Started run(AttemptRequest attempt);

  /**
   * Starts the tasks of several attempts, for a backend that takes them in one go more cheaply than
   * one by one ({@code worker-pool} publishes a batch of work messages and waits for the broker's
   * confirms once). The default runs each in turn. Each attempt's answer is its own, in the order
   * given: a refused attempt does not fail the others.
   *
   * @return one result per attempt, in order
   */
  default List<RunResult> runAll(List<AttemptRequest> attempts) {
    var results = new ArrayList<RunResult>(attempts.size());
    for (AttemptRequest attempt : attempts) {
      results.add(RunResult.of(this, attempt));
    }
    return results;
  }

  /** Stops the task. Cancelling a task that is already over, or cancelled, is not an error. */
  void cancel(AttemptRequest attempt, TaskToken token);

  /**
   * What the backend knows about the task now.
   *
   * @return {@link TaskStatus.Missing} when the backend does not know the task, so it is recorded
   *     as missing rather than left to time out as if it hung
   */
  TaskStatus status(AttemptRequest attempt, TaskToken token);

  /**
   * Where a person can see the task (its logs, a console), computed locally: it does not check that
   * the task exists.
   */
  Optional<URI> infoUrl(AttemptRequest attempt, TaskToken token);

  /**
   * Turns what the backend sent about the attempt into the events every worker sends: phases,
   * progress, heartbeats and the outcome, each carrying the attempt's job id, attempt number and
   * fencing token so the store's fenced scripts apply them exactly as a worker's.
   *
   * @return the events, in order; empty to ignore the notification
   * @throws PermanentDistributorException when the notification is not the attempt's (a forged or
   *     replayed callback, another attempt's), with the reason
   */
  List<StatusEvent> handleNotification(
      AttemptRequest attempt, TaskToken token, Notification notification);
}
