-- Takes up to `limit` due outbox entries for publishing and hides them for `visibilityMs`, so a
-- second scheduler does not publish them too; an entry whose publish is never confirmed shows up
-- again after that time. Entries of jobs that no longer wait for dispatch are dropped. A released
-- last attempt whose outcome did not come within its grace (ADR 14) is not published: the job
-- goes DEAD, its attempts used up, and is named in `exhausted`. An entry of a job that waits behind
-- an earlier job of its ordering key (a redriven one) is dropped: it comes back when the job is its
-- key's head (ADR 29). A job of a concurrency key takes one of its slots here, or waits for one
-- without its entry (ADR 30).
-- KEYS: [1] the partition's key base
-- ARGV: now, limit, visibilityMs, retentionMs
-- Replies: {entries = [{id, type, attempt, payload, submittedAt, pool, traceparent, submitter}], the entries
--   to publish; exhausted = [{id, type, pool}], the jobs that went DEAD}
local now, limit, visibility = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local retentionMs = ARGV[4] or '0'
local ids = redis.call('ZRANGEBYSCORE', dueKey, '-inf', now, 'LIMIT', 0, limit)
local out, exhausted = {}, {}
for _, id in ipairs(ids) do
  local job = redis.call('HMGET', jobKey(id), 'state', 'type', 'attempt', 'payload', 'submittedAt', 'pool',
    'traceparent', 'releasedAttempt', 'lastError', 'orderingKey', 'concurrencyKey',
    'concurrencyLimit', 'submitter')
  local state = job[1]
  if job[8] == job[3] and allows(state, 'ATTEMPTS_EXHAUSTED') then
    redis.call('ZREM', dueKey, id)
    exhaust(id, job[9] or 'lease released', now, retentionMs, nil)
    exhausted[#exhausted + 1] = {id = id, type = job[2], pool = job[6]}
  elseif awaitsWorker(state) and (waitsForItsKey(id, job[10] or nil)
      or (job[11] and not takeSlot(id, job[11], tonumber(job[12]), now, tonumber(job[5])))) then
    redis.call('ZREM', dueKey, id)
  elseif awaitsWorker(state) then
    redis.call('ZADD', dueKey, now + visibility, id)
    out[#out + 1] = {id = id, type = job[2], attempt = tonumber(job[3]), payload = job[4],
                     submittedAt = job[5], pool = job[6], traceparent = job[7] or nil,
                     submitter = job[13] or nil}
  else
    redis.call('ZREM', dueKey, id)
  end
end
return reply({entries = out, exhausted = exhausted})
