-- Releases at once every lease one worker holds in this partition (its pod is gone, or the
-- registry declared it lost): each job goes to RETRY_WAIT (due now), as on expiry (ADR 14).
-- KEYS: [1] the partition's key base
-- ARGV: workerId, reason, now, retentionMs, graceMs
-- Replies: {reaped = [{id, worker, attempt, state, type, pool}]}, the attempts released; [] when
--   the worker ran none here.
local worker, reason, now, retentionMs = ARGV[1], ARGV[2], tonumber(ARGV[3]), ARGV[4]
local graceMs = ARGV[5]
local out = {}
for _, id in ipairs(redis.call('ZRANGE', leasesKey, 0, -1)) do
  local attempt = attemptOf(id)
  if runsOn(attempt, worker) then
    out[#out + 1] = takeLease(id, attempt, reason .. whose(attempt), now, 0, retentionMs, graceMs)
  end
end
return reapedReply(out)
