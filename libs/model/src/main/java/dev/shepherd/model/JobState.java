package dev.shepherd.model;

/** Where a job is in its life. Terminal states never change again except by an explicit redrive. */
public enum JobState {
  SUBMITTED,
  SCHEDULED,
  QUEUED,
  RUNNING,
  RETRY_WAIT,
  SUCCEEDED,
  DEAD,
  CANCELLED;

  public boolean isTerminal() {
    return this == SUCCEEDED || this == DEAD || this == CANCELLED;
  }
}
