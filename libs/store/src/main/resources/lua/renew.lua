-- Extends the lease of the attempt that holds the current token; refuses everyone else.
-- KEYS: [1] the partition's key base
-- ARGV: id, token, ttlMs, now
-- Replies: RENEWED | STALE, with the job's state (MISSING for no job): the job runs no attempt any
--   more (finished, cancelled, released) or another one.
local id, token, ttl, now = ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
local attempt = attemptOf(id)
if not (holds(attempt, token)) then
  return reply({outcome = 'STALE', state = attempt.state or 'MISSING'})
end
holdLease(id, attempt.worker, token, ttl, now, true)
return reply({outcome = 'RENEWED'})
