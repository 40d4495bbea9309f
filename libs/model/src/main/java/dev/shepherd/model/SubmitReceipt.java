package dev.shepherd.model;

/**
 * The answer to a submission.
 *
 * @param jobId the job's id (the first job's, for a repeated idempotency key)
 * @param duplicate true when the idempotency key had been seen and no new job was made
 */
public record SubmitReceipt(String jobId, JobState state, boolean duplicate) {}
