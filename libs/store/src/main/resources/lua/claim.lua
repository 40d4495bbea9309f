-- A worker takes an attempt: lease (SET NX PX) + new fencing token + RUNNING, in one call.
-- The same worker claiming the attempt it already holds gets the same token again: its first
-- claim ran but the reply was lost, and the redelivered message must run the job, not be dropped.
-- KEYS: [1] the partition's key base
-- ARGV: id, attempt, workerId, ttlMs, now
-- Replies: CLAIMED (token, startToCloseMs, stallMs, phaseLimits, heartbeatDetails: the attempt's
--   timeouts and what an earlier attempt's last heartbeat left) | MISSING | STALE_ATTEMPT (another
--   attempt is current) | NOT_CLAIMABLE (the job waits for no worker, or for the outcome of this
--   released attempt) | HELD (another worker holds the lease); all but MISSING with the job's state.
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
if running(state) and job[3] == worker then
  if redis.call('GET', leaseKey(id)) == worker .. '|' .. job[4] then
    holdLease(id, worker, job[4], ttl, now)
    return claimed(job[4])
  end
end
-- a released last attempt waits in RETRY_WAIT for its outcome, not for another run (ADR 14)
if not awaitsWorker(state) or job[5] == attempt then
  return reply({outcome = 'NOT_CLAIMABLE', state = state})
end
if redis.call('SET', leaseKey(id), worker, 'NX', 'PX', ttl) == false then
  return reply({outcome = 'HELD', state = state})
end
-- The work message can overtake the dispatcher's confirm: the claim dispatches first (the table
-- refuses it, changing nothing, when the job was published already).
transition(id, 'DISPATCH', now, nil)
local token = nextToken(id)
holdLease(id, worker, int(token), ttl, now)
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
