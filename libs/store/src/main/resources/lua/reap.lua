-- The lease reaper: every attempt whose lease deadline passed loses it; the job goes to
-- RETRY_WAIT (re-dispatched after backoffMs), or waits there `graceMs` for the outcome of its
-- last attempt before it goes DEAD (ADR 14). A deadline left by a job that runs no attempt any
-- more is dropped.
-- KEYS: [1] the partition's key base
-- ARGV: now, limit, backoffMs, retentionMs, graceMs
-- Replies: {reaped = [{id, worker, attempt, state, type, pool}]}, the attempts whose lease went
--   (state: RETRY_WAIT or DEAD); [] when none.
local now, limit, backoffMs, retentionMs = tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3], ARGV[4]
local graceMs = ARGV[5]
local found = redis.call('ZRANGEBYSCORE', leasesKey, '-inf', now, 'WITHSCORES', 'LIMIT', 0, limit)
local out = {}
for i = 1, #found, 2 do
  local id, deadline = found[i], found[i + 1]
  local attempt = attemptOf(id)
  if attempt.running then
    local reaped = takeLease(id, attempt, 'lease expired' .. whose(attempt), now, backoffMs,
                             retentionMs, graceMs)
    -- remembered until the next attempt is published: lease expiry to re-dispatch is a metric
    if reaped.state == 'RETRY_WAIT' then
      redis.call('HSET', jobKey(id), 'leaseExpiredAt', deadline)
    end
    out[#out + 1] = reaped
  else
    redis.call('ZREM', leasesKey, id)
  end
end
return reapedReply(out)
