package dev.shepherd.store;

import dev.shepherd.model.JobState;

/** What {@link Submissions#submit} did: made a new job, or found the one the key already named. */
public sealed interface SubmitOutcome {

  String jobId();

  JobState state();

  record Accepted(String jobId, JobState state) implements SubmitOutcome {}

  record Duplicate(String jobId, JobState state) implements SubmitOutcome {}
}
