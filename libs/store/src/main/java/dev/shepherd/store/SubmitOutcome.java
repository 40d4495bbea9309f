package dev.shepherd.store;

import dev.shepherd.model.JobState;

/** What {@link Submissions#submit} did: made a new job, or found the one the key already named. */
public sealed interface SubmitOutcome {

  String jobId();

  JobState state();

  /**
   * A new job. {@code reserved} is its outbox entry when the submission reserved it for the caller
   * to publish ({@link Submissions#submit(NewJob, java.time.Duration)}), null otherwise.
   */
  record Accepted(String jobId, JobState state, DueEntry reserved) implements SubmitOutcome {

    public Accepted(String jobId, JobState state) {
      this(jobId, state, null);
    }
  }

  record Duplicate(String jobId, JobState state) implements SubmitOutcome {}
}
