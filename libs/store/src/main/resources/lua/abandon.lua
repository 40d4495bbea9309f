-- Declares one attempt abandoned (its worker holds more than its capacity, or took new work
-- while this one never finished): the lease goes at once and the job is re-dispatched now, or
-- waits for its outcome when this was its last attempt (ADR 14). Only if that worker still runs it.
-- KEYS: [1] the partition's key base
-- ARGV: id, workerId, reason, now, retentionMs, graceMs
-- Replies: {reaped = [{id, worker, attempt, state, type, pool}]}: the attempt, or [] when the job
--   does not run on that worker (any more).
local id, worker, reason, now, retentionMs = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4]), ARGV[5]
local graceMs = ARGV[6]
local attempt = attemptOf(id)
if not (runsOn(attempt, worker)) then return reapedReply({}) end
return reapedReply({takeLease(id, attempt, reason, now, 0, retentionMs, graceMs)})
