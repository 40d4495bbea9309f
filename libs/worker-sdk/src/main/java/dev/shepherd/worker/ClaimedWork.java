package dev.shepherd.worker;

import dev.shepherd.model.JobTimeouts;
import dev.shepherd.model.TraceParent;
import dev.shepherd.model.WorkMessage;
import dev.shepherd.store.ClaimResult;
import java.time.Instant;

/**
 * An attempt the worker claimed, ready to run: what {@link DeliveryListener} hands to {@link
 * AttemptExecution}.
 *
 * @param fencingToken the claim's token, in every report and renewal of the attempt
 * @param claimSentAt {@link System#nanoTime()} when the claim was sent, for the lease's trust
 * @param claimedAt the clock's time when the claim was sent, for the attempt's timeouts
 * @param timeouts the job's timeouts, as the claim returned them
 * @param heartbeatDetails what an earlier attempt's last heartbeat carried, as JSON; or null
 * @param trace the work message's trace context (a new trace when it came without one)
 * @param transaction the other jobs the attempt carries when its type takes batches (ADR 31); null
 *     for none
 */
record ClaimedWork(
    WorkMessage work,
    long fencingToken,
    long claimSentAt,
    Instant claimedAt,
    JobTimeouts timeouts,
    String heartbeatDetails,
    TraceParent trace,
    ClaimResult.Transaction transaction) {}
