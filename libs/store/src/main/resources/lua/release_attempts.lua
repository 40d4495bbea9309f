-- Releases the leases of the named attempts at once: a draining worker gives back the attempts it
-- could not finish, so they run again elsewhere without waiting for their TTL. Attempts whose
-- outcome it published are not named: they keep their lease until the outcome is applied. Each
-- job still RUNNING under that token goes to RETRY_WAIT (due now), as on expiry (ADR 14).
-- ARGV: reason, now, retentionMs, graceMs, id1, token1, id2, token2, ...
-- Replies: {reaped = [{id, worker, attempt, state, type, pool}]}, the attempts released.
local reason, now, retentionMs, graceMs = ARGV[1], tonumber(ARGV[2]), ARGV[3], ARGV[4]
local out = {}
for i = 5, #ARGV, 2 do
  local id, token = ARGV[i], ARGV[i + 1]
  local job = redis.call('HMGET', jobKey(id), 'state', 'token', 'worker', 'attempt', 'type', 'pool')
  if job[1] == 'RUNNING' and job[2] == token then
    local why = reason .. ' (worker ' .. (job[3] or '?') .. ', attempt ' .. job[4] .. ')'
    local state = retryOrDie(id, 'LEASE_EXPIRED', why, now, 0, retentionMs, nil, graceMs)
    out[#out + 1] = {id = id, worker = job[3], attempt = tonumber(job[4]), state = state,
                     type = job[5], pool = job[6]}
  end
end
if #out == 0 then return '{"reaped":[]}' end
return reply({reaped = out})
