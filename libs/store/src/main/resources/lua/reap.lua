-- The lease reaper: every attempt whose lease deadline passed loses it; the job goes to
-- RETRY_WAIT (re-dispatched after backoffMs), or waits there `graceMs` for the outcome of its
-- last attempt before it goes DEAD (ADR 14).
-- ARGV: now, limit, backoffMs, retentionMs, graceMs
local now, limit, backoffMs, retentionMs = tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3], ARGV[4]
local graceMs = ARGV[5]
local found = redis.call('ZRANGEBYSCORE', leasesKey, '-inf', now, 'WITHSCORES', 'LIMIT', 0, limit)
local out = {}
for i = 1, #found, 2 do
  local id, deadline = found[i], found[i + 1]
  local job = redis.call('HMGET', jobKey(id), 'state', 'worker', 'attempt', 'type', 'pool')
  if job[1] == 'RUNNING' then
    local reason = 'lease expired (worker ' .. (job[2] or '?') .. ', attempt ' .. job[3] .. ')'
    local state = retryOrDie(id, 'LEASE_EXPIRED', reason, now, backoffMs, retentionMs, nil, graceMs)
    -- remembered until the next attempt is published: lease expiry to re-dispatch is a metric
    if state == 'RETRY_WAIT' then redis.call('HSET', jobKey(id), 'leaseExpiredAt', deadline) end
    out[#out + 1] = {id = id, worker = job[2], attempt = tonumber(job[3]), state = state,
                     type = job[4], pool = job[5]}
  else
    redis.call('ZREM', leasesKey, id)
  end
end
return reply({reaped = out})
