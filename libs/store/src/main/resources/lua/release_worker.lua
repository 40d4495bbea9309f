-- Releases at once every lease one worker holds in this partition (its pod is gone, or the
-- registry declared it lost): each job goes to RETRY_WAIT (due now), as on expiry (ADR 14).
-- ARGV: workerId, reason, now, retentionMs, graceMs
local worker, reason, now, retentionMs = ARGV[1], ARGV[2], tonumber(ARGV[3]), ARGV[4]
local graceMs = ARGV[5]
local ids = redis.call('ZRANGE', leasesKey, 0, -1)
local out = {}
for _, id in ipairs(ids) do
  local job = redis.call('HMGET', jobKey(id), 'state', 'worker', 'attempt', 'type', 'pool')
  if job[1] == 'RUNNING' and job[2] == worker then
    local why = reason .. ' (worker ' .. worker .. ', attempt ' .. job[3] .. ')'
    local state = retryOrDie(id, 'LEASE_EXPIRED', why, now, 0, retentionMs, nil, graceMs)
    out[#out + 1] = {id = id, worker = worker, attempt = tonumber(job[3]), state = state,
                     type = job[4], pool = job[5]}
  end
end
return reply({reaped = out})
