package dev.shepherd.store;

/** The store's Lua scripts, each named by its file in {@code src/main/resources/lua/}. */
enum Script {
  SUBMIT("submit"),
  RESERVE_DUE("reserve_due"),
  MARK_DISPATCHED("mark_dispatched"),
  CLAIM("claim"),
  RENEW("renew"),
  REPORT("report"),
  REAP("reap"),
  VIEW("view"),
  RECORD_DEAD("record_dead"),
  RELEASE_WORKER("release_worker"),
  ABANDON("abandon"),
  REDRIVE("redrive"),
  DISCARD("discard"),
  REQUEUE_STALE("requeue_stale"),
  DEFER_DUE("defer_due"),
  HOLD_OUTCOMES("hold_outcomes"),
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

  Script(String file) {
    this.file = file;
  }
}
