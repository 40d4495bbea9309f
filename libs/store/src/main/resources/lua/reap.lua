-- The lease reaper: every attempt whose lease deadline passed loses it; the job goes to
-- RETRY_WAIT (re-dispatched after backoffMs) or DEAD when its attempts are used up.
-- ARGV: now, limit, backoffMs, retentionMs
local now, limit, backoffMs, retentionMs = tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3], ARGV[4]
local ids = redis.call('ZRANGEBYSCORE', leasesKey, '-inf', now, 'LIMIT', 0, limit)
local out = {}
for _, id in ipairs(ids) do
  local job = redis.call('HMGET', jobKey(id), 'state', 'worker', 'attempt', 'type', 'pool')
  if job[1] == 'RUNNING' then
    local reason = 'lease expired (worker ' .. (job[2] or '?') .. ', attempt ' .. job[3] .. ')'
    local state = retryOrDie(id, 'LEASE_EXPIRED', reason, now, backoffMs, retentionMs)
    out[#out + 1] = {id = id, worker = job[2], attempt = tonumber(job[3]), state = state,
                     type = job[4], pool = job[5]}
  else
    redis.call('ZREM', leasesKey, id)
  end
end
return reply({reaped = out})
