-- Makes a job that waits for a retry (RETRY_WAIT after a retryable failure or a lost lease) due
-- now, for an operator who fixed what it failed on: its outbox entry, scored by when its backoff
-- ends, moves to now and the partition's dispatchers hear of it at once. The state does not
-- change: the job stays RETRY_WAIT until a dispatcher publishes it (DISPATCH), so reserve_due.lua
-- still applies its ordering key (a job behind its key's head is not published) and its
-- concurrency key (a job finding no free slot waits for one). An entry a dispatcher holds
-- reserved at this moment may be published twice; the claim takes one (at-least-once, ADR 14).
-- A released last attempt waits for its outcome (its grace, ADR 14): making it due now would end
-- it DEAD before that outcome could come, so it is refused. Who asked and when is kept on the job.
-- KEYS: [1] the partition's key base
-- ARGV: id, now, by
-- Replies: MISSING | NOT_WAITING (state: the table allows no DISPATCH after an attempt from it) |
--   AWAITS_OUTCOME (a released last attempt) | DUE_NOW (dueAt: when the entry was due before,
--   absent when it had none: a job waiting for a concurrency slot or its ordering key's head).
local id, now, by = ARGV[1], tonumber(ARGV[2]), ARGV[3]
local key = jobKey(id)
local job = redis.call('HMGET', key, 'state', 'attempt', 'releasedAttempt')
local state = job[1]
if not state then return reply({outcome = 'MISSING'}) end
-- waiting for a retry: may be dispatched, and its attempts may run out while it waits
if not (allows(state, 'DISPATCH') and allows(state, 'ATTEMPTS_EXHAUSTED')) then
  return reply({outcome = 'NOT_WAITING', state = state})
end
if job[3] and job[3] == job[2] then return reply({outcome = 'AWAITS_OUTCOME', state = state}) end
local before = redis.call('ZSCORE', dueKey, id)
redis.call('ZADD', dueKey, now, id)
redis.call('HSET', key, 'retryNowBy', by, 'retryNowAt', int(now))
redis.call('PUBLISH', wakeKey, id)
local out = {outcome = 'DUE_NOW', state = state}
if before then out.dueAt = int(tonumber(before)) end
return reply(out)
