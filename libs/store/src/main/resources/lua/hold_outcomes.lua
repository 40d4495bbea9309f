-- Renews, in one call per partition, the leases of attempts whose outcome the worker published
-- and that wait for the status-tracker: each is extended and marked (`outcomeAt`, so it does not
-- count against the worker's capacity) while its job still runs the attempt of that token.
-- Returns those still held; the others were applied (or taken over) and need no more renewing.
-- KEYS: [1] the partition's key base
-- ARGV: ttlMs, now, id1, token1, id2, token2, ...
-- Replies: {held = [id, ...]}, the attempts whose lease was extended ([] for none).
local ttl, now = tonumber(ARGV[1]), tonumber(ARGV[2])
local held = {}
for i = 3, #ARGV, 2 do
  local id, token = ARGV[i], ARGV[i + 1]
  local attempt = attemptOf(id)
  if holds(attempt, token) then
    holdLease(id, attempt.worker, token, ttl, now, true)
    redis.call('HSET', jobKey(id), 'outcomeAt', int(now))
    held[#held + 1] = id
  end
end
if #held == 0 then return '{"held":[]}' end
return reply({held = held})
