-- A worker takes an attempt: lease (SET NX PX) + new fencing token + RUNNING, in one call.
-- The same worker claiming the attempt it already holds gets the same token again: its first
-- claim ran but the reply was lost, and the redelivered message must run the job, not be dropped.
-- ARGV: id, attempt, workerId, ttlMs, now
-- Replies: CLAIMED (token, the attempt's timeouts, the last heartbeat's details) | MISSING |
--   STALE_ATTEMPT | NOT_CLAIMABLE | HELD, with the job's state.
local id, attempt, worker, ttl, now = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4]), tonumber(ARGV[5])
local key = jobKey(id)
local job = redis.call('HMGET', key, 'state', 'attempt', 'worker', 'token', 'releasedAttempt',
                      'startToCloseMs', 'stallMs', 'phaseLimits', 'heartbeatDetails')
-- what the worker enforces locally too, and what an earlier attempt's last heartbeat left
local function claimed(token)
  -- HMGET answers false for a missing field: `or nil` leaves it out of the reply
  local out = {outcome = 'CLAIMED', token = token, startToCloseMs = job[6] or nil,
               stallMs = job[7] or nil, heartbeatDetails = job[9] or nil}
  if job[8] then out.phaseLimits = cjson.decode(job[8]) end
  return reply(out)
end
local state = job[1]
if not state then return reply({outcome = 'MISSING'}) end
if job[2] ~= attempt then return reply({outcome = 'STALE_ATTEMPT', state = state}) end
if state == 'RUNNING' and job[3] == worker then
  local held = worker .. '|' .. job[4]
  if redis.call('GET', leaseKey(id)) == held then
    redis.call('SET', leaseKey(id), held, 'PX', ttl)
    redis.call('ZADD', leasesKey, now + ttl, id)
    return claimed(job[4])
  end
end
-- a released last attempt waits in RETRY_WAIT for its outcome, not for another run (ADR 14)
if T[state] == nil or (state ~= 'QUEUED' and not (T[state]['DISPATCH'])) or job[5] == attempt then
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
redis.call('HDEL', key, 'progress', 'progressMessage', 'outcomeAt', 'releasedAttempt',
           'lastReportAt', 'currentPhase', 'currentPhaseAt')
transition(id, 'CLAIM', now, worker, {token = int(token), worker = worker})
-- the attempt's first timeout deadline; timeout.lua moves it on as reports come (ADR 18)
if job[6] or job[7] then
  local deadline = math.huge
  if job[6] then deadline = math.min(deadline, now + tonumber(job[6])) end
  if job[7] then deadline = math.min(deadline, now + tonumber(job[7])) end
  redis.call('ZADD', timeoutsKey, deadline, id)
end
return claimed(int(token))
