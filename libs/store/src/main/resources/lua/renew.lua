-- Extends the lease of the attempt that holds the current token; refuses everyone else.
-- ARGV: id, token, ttlMs, now
local id, token, ttl, now = ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
local job = redis.call('HMGET', jobKey(id), 'state', 'token', 'worker')
if job[1] ~= 'RUNNING' or job[2] ~= token then
  return reply({outcome = 'STALE', state = job[1] or 'MISSING'})
end
redis.call('SET', leaseKey(id), job[3] .. '|' .. token, 'PX', ttl)
redis.call('ZADD', leasesKey, now + ttl, id)
return reply({outcome = 'RENEWED'})
