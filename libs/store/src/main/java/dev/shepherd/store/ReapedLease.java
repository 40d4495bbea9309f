package dev.shepherd.store;

/** A lease the reaper took back, and where its job went (RETRY_WAIT or DEAD). */
public record ReapedLease(
    String jobId, String workerId, int attempt, String newState, String type, String pool) {}
