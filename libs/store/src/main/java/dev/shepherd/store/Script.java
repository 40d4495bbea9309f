package dev.shepherd.store;

/**
 * The store's Lua scripts, each named by its file in {@code src/main/resources/lua/}, and whether
 * it is on a job's path.
 */
enum Script {
  SUBMIT("submit", true),
  RESERVE_DUE("reserve_due", true),
  MARK_DISPATCHED("mark_dispatched", true),
  CLAIM("claim", true),
  RENEW("renew", true),
  REPORT("report", true),
  REAP("reap"),
  VIEW("view"),
  RECORD_DEAD("record_dead"),
  RELEASE_WORKER("release_worker"),
  ABANDON("abandon"),
  REDRIVE("redrive"),
  DISCARD("discard"),
  REQUEUE_STALE("requeue_stale"),
  DEFER_DUE("defer_due"),
  HOLD_OUTCOMES("hold_outcomes", true),
  TRIM_INDEXES("trim_indexes"),
  RELEASE_ATTEMPTS("release_attempts"),
  UNROUTABLE("unroutable"),
  TIMEOUT("timeout"),
  CANCEL("cancel"),
  LEASE_HOLDERS("lease_holders"),
  AWAIT("await"),
  SUMMARY("summary"),
  RETRY_NOW("retry_now"),
  RECORD_TASK("record_task");

  /** The file name without {@code .lua}; also the {@code op} tag of the call counter. */
  final String file;

  /**
   * Called for each job on its way, from the bounded threads that move jobs (the intake's
   * consumers, the dispatch loop, a worker's slots, renewer and status sender, the status-tracker):
   * a single call of it takes the blocking client when there is one ({@link BlockingRedis}, ADR
   * 57). The others (the API's reads and awaits, whose callers are as many as its requests,
   * operators' actions, recovery's passes) stay on Lettuce's shared connection.
   */
  final boolean onJobPath;

  Script(String file) {
    this(file, false);
  }

  Script(String file, boolean onJobPath) {
    this.file = file;
    this.onJobPath = onJobPath;
  }
}
