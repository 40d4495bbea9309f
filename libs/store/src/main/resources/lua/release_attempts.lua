-- Releases the leases of the named attempts at once: a draining worker gives back the attempts it
-- could not finish, so they run again elsewhere without waiting for their TTL. Attempts whose
-- outcome it published are not named: they keep their lease until the outcome is applied. Each
-- job still running the attempt of that token goes to RETRY_WAIT (due now), as on expiry (ADR 14).
-- KEYS: [1] the partition's key base
-- ARGV: reason, now, retentionMs, graceMs, id1, token1, id2, token2, ...
-- Replies: {reaped = [{id, worker, attempt, state, type, pool}]}, the attempts released; [] when
--   none still ran under its token.
local reason, now, retentionMs, graceMs = ARGV[1], tonumber(ARGV[2]), ARGV[3], ARGV[4]
local out = {}
for i = 5, #ARGV, 2 do
  local id, token = ARGV[i], ARGV[i + 1]
  local attempt = attemptOf(id)
  if holds(attempt, token) then
    out[#out + 1] = takeLease(id, attempt, reason .. whose(attempt), now, 0, retentionMs, graceMs)
  end
end
return reapedReply(out)
