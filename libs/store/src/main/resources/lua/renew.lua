-- Extends the lease of the attempt that holds the current token; refuses everyone else. With
-- `reported` = '1' the worker says the attempt's outcome is published and only waits to be
-- applied: the lease no longer counts against the worker's capacity.
-- ARGV: id, token, ttlMs, now, [reported]
local id, token, ttl, now = ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
local job = redis.call('HMGET', jobKey(id), 'state', 'token', 'worker')
if job[1] ~= 'RUNNING' or job[2] ~= token then
  return reply({outcome = 'STALE', state = job[1] or 'MISSING'})
end
redis.call('SET', leaseKey(id), job[3] .. '|' .. token, 'PX', ttl)
redis.call('ZADD', leasesKey, now + ttl, id)
if ARGV[5] == '1' then redis.call('HSET', jobKey(id), 'outcomeAt', int(now)) end
return reply({outcome = 'RENEWED'})
