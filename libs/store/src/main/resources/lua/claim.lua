-- A worker takes an attempt: lease (SET NX PX) + new fencing token + RUNNING, in one call.
-- ARGV: id, attempt, workerId, ttlMs, now
local id, attempt, worker, ttl, now = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4]), tonumber(ARGV[5])
local key = jobKey(id)
local job = redis.call('HMGET', key, 'state', 'attempt')
local state = job[1]
if not state then return reply({outcome = 'MISSING'}) end
if job[2] ~= attempt then return reply({outcome = 'STALE_ATTEMPT', state = state}) end
if T[state] == nil or (state ~= 'QUEUED' and not (T[state]['DISPATCH'])) then
  return reply({outcome = 'NOT_CLAIMABLE', state = state})
end
if redis.call('SET', leaseKey(id), worker, 'NX', 'PX', ttl) == false then
  return reply({outcome = 'HELD', state = state})
end
-- The work message can overtake the dispatcher's confirm: the claim dispatches first.
if state ~= 'QUEUED' then
  transition(id, 'DISPATCH', now, nil)
  redis.call('ZREM', dueKey, id)
end
local token = nextToken(id)
redis.call('SET', leaseKey(id), worker .. '|' .. int(token), 'PX', ttl)
redis.call('ZADD', leasesKey, now + ttl, id)
redis.call('ZREM', dueKey, id)
redis.call('HSET', key, 'worker', worker, 'seq', 0, 'startedAt', int(now))
redis.call('HDEL', key, 'progress', 'progressMessage', 'outcomeAt')
transition(id, 'CLAIM', now, worker)
return reply({outcome = 'CLAIMED', token = int(token)})
