package dev.shepherd.store;

import dev.shepherd.model.JobState;
import tools.jackson.databind.JsonNode;

/**
 * Cancels jobs, whatever they are doing, unless they already ended (see {@code cancel.lua}): a
 * waiting job never runs, and a running attempt's renewals and reports are refused from then on.
 */
public final class Cancels {

  private final StoreContext store;

  Cancels(StoreContext store) {
    this.store = store;
  }

  /**
   * Cancels the job at once, unless it already ended.
   *
   * @param by who cancels, kept on the job
   * @param reason why, kept on the job's history (may be null)
   */
  public CancelResult cancel(String jobId, String by, String reason) {
    JsonNode reply =
        store.run(
            Script.CANCEL,
            store.keys().partitionOf(jobId),
            jobId,
            store.now(),
            by,
            reason == null ? "" : reason,
            store.retention());
    var outcome = CancelResult.Outcome.valueOf(reply.get("outcome").asString());
    String state = reply.path("state").asString(null);
    return new CancelResult(
        outcome,
        state == null ? null : JobState.valueOf(state),
        reply.path("worker").asString(null),
        reply.path("token").isMissingNode() ? 0 : Long.parseLong(reply.get("token").asString()),
        reply.path("type").asString(null));
  }
}
