-- Renews, in one call per partition, the leases of attempts whose outcome the worker published
-- and that wait for the status-tracker: each is extended and marked (`outcomeAt`, so it does not
-- count against the worker's capacity) while its job is still RUNNING under that token. Returns
-- those still held; the others were applied (or taken over) and need no more renewing.
-- ARGV: ttlMs, now, id1, token1, id2, token2, ...
local ttl, now = tonumber(ARGV[1]), tonumber(ARGV[2])
local held = {}
for i = 3, #ARGV, 2 do
  local id, token = ARGV[i], ARGV[i + 1]
  local job = redis.call('HMGET', jobKey(id), 'state', 'token', 'worker')
  if job[1] == 'RUNNING' and job[2] == token then
    redis.call('SET', leaseKey(id), job[3] .. '|' .. token, 'PX', ttl)
    redis.call('ZADD', leasesKey, now + ttl, id)
    redis.call('HSET', jobKey(id), 'outcomeAt', int(now))
    held[#held + 1] = id
  end
end
if #held == 0 then return '{"held":[]}' end
return reply({held = held})
