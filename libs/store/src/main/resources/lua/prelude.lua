-- Shared by every script. The store puts in front of it `local T = {...}`, the transition table
-- rendered from dev.shepherd.model.Transitions, so Lua and Java obey one table; `local
-- DEAD_RETENTION_MS`, the store's dead-job retention in milliseconds (0 keeps dead jobs and their
-- records); and the key helpers rendered from dev.shepherd.store.Keys (`base` = KEYS[1], the
-- partition's key base, `jobKey(id)`, `dueKey`, ...). No script builds a key name of its own.

-- Integers as exact decimal strings: tostring() and cjson print doubles with 14 digits, which
-- would round fencing tokens (microseconds since the epoch) and millisecond timestamps.
local function int(n) return string.format('%d', n) end

local function reply(t) return cjson.encode(t) end

-- What the transition table lets happen next. Scripts ask it, or the names below, instead of
-- naming states: `allows(state, 'CANCEL')`, not a list of the states a cancel may leave.
local function allows(state, event)
  return not not (state and T[state] and T[state][event])
end
-- An attempt runs: its lease may still be taken away (RUNNING).
local function running(state) return allows(state, 'LEASE_EXPIRED') end
-- Published, waiting for a worker's claim (QUEUED).
local function published(state) return allows(state, 'CLAIM') end
-- Waiting for a worker: published, or to be published first (SUBMITTED, SCHEDULED, RETRY_WAIT).
local function awaitsWorker(state) return published(state) or allows(state, 'DISPATCH') end

local ATTEMPT_EVENTS = {CLAIM = true, SUCCEED = true, FAIL_RETRYABLE = true, FAIL_PERMANENT = true,
                        LEASE_EXPIRED = true, ATTEMPTS_EXHAUSTED = true}

-- Applies `event` to the job if the table allows it, records the change in the history and the
-- state indexes, and returns the new state (nil when the change is illegal). `by` ({token, worker},
-- optional) names the attempt an attempt event comes from, e.g. the reporter of an outcome; without
-- it the line carries the job's stored token and worker.
local function transition(id, event, now, reason, by)
  local key = jobKey(id)
  local from = redis.call('HGET', key, 'state')
  local to = from and T[from] and T[from][event]
  if not to then return nil end
  redis.call('HSET', key, 'state', to)
  redis.call('ZREM', stateKey(from), id)
  -- every way out of RUNNING ends the attempt's timeouts, and every way out of QUEUED its wait's
  -- (scheduleToStart); a job without timeouts pays one read
  if (running(from) or published(from) or published(to)) and to ~= from then
    local limits = redis.call('HMGET', key, 'startToCloseMs', 'stallMs', 'phaseLimits',
                              'scheduleToStartMs')
    if limits[1] or limits[2] or limits[3] or limits[4] then
      redis.call('ZREM', timeoutsKey, id)
    end
    if published(to) and limits[4] then
      redis.call('ZADD', timeoutsKey, now + tonumber(limits[4]), id)
    end
  end
  redis.call('ZADD', stateKey(to), now, id)
  -- per-pool indexes of waiting jobs: `queued` keeps when each began to wait (queue depth and
  -- oldest-job age), `requeued` when it was queued or last republished (the stale-queued pass)
  if published(to) or published(from) then
    local pool = redis.call('HGET', key, 'pool')
    local queued, requeued = queuedKey(pool), requeuedKey(pool)
    if published(to) then
      redis.call('ZADD', queued, now, id)
      redis.call('ZADD', requeued, now, id)
    else
      redis.call('ZREM', queued, id)
      redis.call('ZREM', requeued, id)
    end
  end
  local entry = {at = int(now), from = from, to = to, event = event,
                 attempt = tonumber(redis.call('HGET', key, 'attempt'))}
  if reason and reason ~= '' then entry.reason = reason end
  -- what an attempt did carries that attempt's fencing token and worker (for an outcome, the
  -- reporter's), so anyone can check that an outcome came from the attempt holding the current one
  if ATTEMPT_EVENTS[event] then
    entry.fencingToken = (by and by.token) or redis.call('HGET', key, 'token')
    entry.workerId = (by and by.worker) or redis.call('HGET', key, 'worker') or nil
  end
  redis.call('RPUSH', historyKey(id), cjson.encode(entry))
  return to
end

-- A new fencing token: greater than every token this job had, and never below the server clock
-- in microseconds, so a Redis that lost its last writes (AOF everysec) still never reissues one.
local function nextToken(id)
  local stored = tonumber(redis.call('HGET', jobKey(id), 'token') or '0')
  local t = redis.call('TIME')
  local micros = tonumber(t[1]) * 1000000 + tonumber(t[2])
  local token = math.max(stored + 1, micros)
  redis.call('HSET', jobKey(id), 'token', int(token))
  return token
end

-- Holds the running attempt's lease `ttl` longer: the lease names its worker and fencing token,
-- and the partition's lease deadlines (what the reaper reads) move with it.
local function holdLease(id, worker, token, ttl, now)
  redis.call('SET', leaseKey(id), worker .. '|' .. token, 'PX', ttl)
  redis.call('ZADD', leasesKey, now + ttl, id)
end

local function releaseLease(id)
  redis.call('DEL', leaseKey(id))
  redis.call('ZREM', leasesKey, id)
end

-- The job's current attempt as the lease scripts read it: `running` when the table says an attempt
-- runs (only then is there a lease to hold or take), with its worker, token, number, type and pool.
local function attemptOf(id)
  local job = redis.call('HMGET', jobKey(id), 'state', 'worker', 'token', 'attempt', 'type', 'pool')
  return {state = job[1], running = running(job[1]), worker = job[2] or nil, token = job[3],
          attempt = tonumber(job[4]), type = job[5], pool = job[6]}
end

-- The from-state checks of the lease scripts: the attempt runs under this fencing token, or on
-- this worker.
local function holds(attempt, token) return attempt.running and attempt.token == token end
local function runsOn(attempt, worker) return attempt.running and attempt.worker == worker end

-- ' (worker w1, attempt 3)': which attempt a reason speaks of.
local function whose(attempt)
  return ' (worker ' .. (attempt.worker or '?') .. ', attempt ' .. attempt.attempt .. ')'
end

-- Finished jobs expire after the retention period so Redis does not grow without bound; a DEAD
-- job lives as long as its dead-job record (DEAD_RETENTION_MS, rendered from the store settings,
-- so an operator can redrive it while the record is listed). The partition's indexes are trimmed
-- to match by trim_indexes.lua. A retention of zero keeps them.
local function retain(id, retentionMs)
  local ttl = tonumber(retentionMs)
  -- a job an operator may still redrive (DEAD) is kept as long as its dead-job record
  if allows(redis.call('HGET', jobKey(id), 'state'), 'REDRIVE') then ttl = DEAD_RETENTION_MS end
  if ttl > 0 then
    redis.call('PEXPIRE', jobKey(id), ttl)
    redis.call('PEXPIRE', historyKey(id), ttl)
    redis.call('PEXPIRE', phasesKey(id), ttl)
    local idem = redis.call('HGET', jobKey(id), 'idempotencyKey')
    if idem then redis.call('PEXPIRE', idemKey(idem), ttl) end
  end
end

-- A dead-job record expires after DEAD_RETENTION_MS, with its DEAD job (retain); a discarded one
-- that long after its discard.
local function writeDeadRecord(id, json)
  if DEAD_RETENTION_MS > 0 then
    redis.call('SET', deadRecordKey(id), json, 'PX', DEAD_RETENTION_MS)
  else
    redis.call('SET', deadRecordKey(id), json)
  end
end

-- A new dead-job record, listed in the dead index.
local function storeDeadRecord(id, json, now)
  writeDeadRecord(id, json)
  redis.call('ZADD', deadKey, now, id)
end

local function recordDeadJob(id, reason, now, retentionMs)
  local key = jobKey(id)
  local record = {id = id, jobId = id, type = redis.call('HGET', key, 'type'), reason = reason,
                  source = 'job', attempts = tonumber(redis.call('HGET', key, 'attempt')),
                  at = int(now)}
  storeDeadRecord(id, cjson.encode(record), now)
end

-- Ends the job DEAD by `event` (FAIL_PERMANENT, UNROUTABLE) when the table allows it: its last
-- error, when it finished, a dead-job record saying `why`, and its retention. Returns the new state,
-- or nil (and changes nothing) when the table refuses.
local function endDead(id, event, error, why, now, finishedAt, retentionMs, by)
  local to = transition(id, event, now, error, by)
  if not to then return nil end
  redis.call('HSET', jobKey(id), 'lastError', error, 'finishedAt', finishedAt)
  recordDeadJob(id, why, now, retentionMs)
  retain(id, retentionMs)
  return to
end

-- The job's attempts are used up: DEAD, with a dead-job record naming the last error.
local function exhaust(id, error, now, retentionMs, by)
  local key = jobKey(id)
  local maxAttempts = redis.call('HGET', key, 'maxAttempts')
  transition(id, 'ATTEMPTS_EXHAUSTED', now, error, by)
  redis.call('HSET', key, 'finishedAt', int(now))
  redis.call('HDEL', key, 'releasedAttempt', 'leaseExpiredAt')
  recordDeadJob(id, 'attempts exhausted (' .. maxAttempts .. '): ' .. error, now, retentionMs)
  retain(id, retentionMs)
  return 'DEAD'
end

-- Ends the running attempt: a retry when attempts remain, DEAD otherwise. A lease taken away
-- (LEASE_EXPIRED: expired, released, abandoned) is not an outcome: that attempt's outcome may be
-- on its way, and is applied if it comes before a new claim (ADR 14). The job remembers the
-- released attempt (`releasedAttempt`); re-dispatch waits `graceMs` when the worker had already
-- published the outcome (`outcomeAt`), and a released last attempt waits that long in RETRY_WAIT
-- for its outcome before the dispatcher declares it DEAD.
local function retryOrDie(id, retryEvent, error, now, backoffMs, retentionMs, by, graceMs)
  local key = jobKey(id)
  local attempt = tonumber(redis.call('HGET', key, 'attempt'))
  local maxAttempts = tonumber(redis.call('HGET', key, 'maxAttempts'))
  local released = retryEvent == 'LEASE_EXPIRED'
  local published = released and redis.call('HGET', key, 'outcomeAt')
  local grace = tonumber(graceMs or 0)
  releaseLease(id)
  redis.call('HSET', key, 'lastError', error)
  if attempt < maxAttempts then
    transition(id, retryEvent, now, error, by)
    redis.call('HSET', key, 'attempt', attempt + 1, 'seq', 0)
    redis.call('HDEL', key, 'worker')
    local due = now + tonumber(backoffMs)
    if released then
      redis.call('HSET', key, 'releasedAttempt', attempt)
      if published then due = math.max(due, now + grace) end
    end
    redis.call('ZADD', dueKey, due, id)
    return 'RETRY_WAIT'
  end
  if released then
    transition(id, retryEvent, now, error, by)
    redis.call('HSET', key, 'releasedAttempt', attempt, 'seq', 0)
    redis.call('ZADD', dueKey, now + grace, id)
    return 'RETRY_WAIT'
  end
  return exhaust(id, error, now, retentionMs, by)
end

-- Takes a running attempt's lease away (expired, abandoned, released with its worker or by it):
-- LEASE_EXPIRED through retryOrDie. Returns what the reply of those scripts lists about it.
local function takeLease(id, attempt, reason, now, backoffMs, retentionMs, graceMs)
  local state = retryOrDie(id, 'LEASE_EXPIRED', reason, now, backoffMs, retentionMs, nil, graceMs)
  return {id = id, worker = attempt.worker, attempt = attempt.attempt, state = state,
          type = attempt.type, pool = attempt.pool}
end

-- The reply of reap, abandon, release_worker and release_attempts: {reaped = [takeLease entries]}
-- (an empty list as [], where cjson would write {}).
local function reapedReply(reaped)
  if #reaped == 0 then return '{"reaped":[]}' end
  return reply({reaped = reaped})
end
