-- Shared by every script. The store prepends `local T = {...}`: the transition table rendered from
-- dev.shepherd.model.Transitions, so Lua and Java obey one table.
-- KEYS[1] is the partition's key base, e.g. "shepherd:{p07}:". Every key a script touches starts
-- with it, so all of them share one hash tag and one Redis Cluster slot.
local base = KEYS[1]

local function jobKey(id) return base .. 'job:' .. id end
local function historyKey(id) return base .. 'job:' .. id .. ':history' end
local function phasesKey(id) return base .. 'job:' .. id .. ':phases' end
local function leaseKey(id) return base .. 'lease:' .. id end
local function stateKey(state) return base .. 'state:' .. state end
local dueKey = base .. 'due'
local leasesKey = base .. 'leases'
local jobsKey = base .. 'jobs'
local deadKey = base .. 'dead'
local function deadRecordKey(id) return base .. 'deadrec:' .. id end

-- Integers as exact decimal strings: tostring() and cjson print doubles with 14 digits, which
-- would round fencing tokens (microseconds since the epoch) and millisecond timestamps.
local function int(n) return string.format('%d', n) end

local function reply(t) return cjson.encode(t) end

local ATTEMPT_EVENTS = {CLAIM = true, SUCCEED = true, FAIL_RETRYABLE = true, FAIL_PERMANENT = true,
                        LEASE_EXPIRED = true, ATTEMPTS_EXHAUSTED = true}

-- Applies `event` to the job if the table allows it, records the change in the history and the
-- state indexes, and returns the new state (nil when the change is illegal).
local function transition(id, event, now, reason)
  local key = jobKey(id)
  local from = redis.call('HGET', key, 'state')
  local to = from and T[from] and T[from][event]
  if not to then return nil end
  redis.call('HSET', key, 'state', to)
  redis.call('ZREM', stateKey(from), id)
  redis.call('ZADD', stateKey(to), now, id)
  -- per-pool index of waiting jobs, for queue depth and oldest-job age
  if to == 'QUEUED' or from == 'QUEUED' then
    local queued = base .. 'queued:' .. redis.call('HGET', key, 'pool')
    if to == 'QUEUED' then redis.call('ZADD', queued, now, id) else redis.call('ZREM', queued, id) end
  end
  local entry = {at = int(now), from = from, to = to, event = event,
                 attempt = tonumber(redis.call('HGET', key, 'attempt'))}
  if reason and reason ~= '' then entry.reason = reason end
  -- what an attempt did carries that attempt's fencing token, so anyone can check that an outcome
  -- came from the attempt holding the current one
  if ATTEMPT_EVENTS[event] then entry.fencingToken = redis.call('HGET', key, 'token') end
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

local function releaseLease(id)
  redis.call('DEL', leaseKey(id))
  redis.call('ZREM', leasesKey, id)
end

-- Finished jobs expire after the retention period so Redis does not grow without bound; the
-- partition's indexes drop them lazily when a listing meets a missing job.
local function retain(id, retentionMs)
  if tonumber(retentionMs) > 0 then
    redis.call('PEXPIRE', jobKey(id), retentionMs)
    redis.call('PEXPIRE', historyKey(id), retentionMs)
    redis.call('PEXPIRE', phasesKey(id), retentionMs)
    local idem = redis.call('HGET', jobKey(id), 'idempotencyKey')
    if idem then redis.call('PEXPIRE', base .. 'idem:' .. idem, retentionMs) end
  end
end

local function recordDeadJob(id, reason, now, retentionMs)
  local key = jobKey(id)
  local record = {id = id, jobId = id, type = redis.call('HGET', key, 'type'), reason = reason,
                  source = 'job', attempts = tonumber(redis.call('HGET', key, 'attempt')),
                  at = int(now)}
  redis.call('SET', deadRecordKey(id), cjson.encode(record))
  redis.call('ZADD', deadKey, now, id)
end

-- Ends the running attempt: a retry when attempts remain, DEAD otherwise.
local function retryOrDie(id, retryEvent, error, now, backoffMs, retentionMs)
  local key = jobKey(id)
  local attempt = tonumber(redis.call('HGET', key, 'attempt'))
  local maxAttempts = tonumber(redis.call('HGET', key, 'maxAttempts'))
  releaseLease(id)
  redis.call('HSET', key, 'lastError', error)
  if attempt < maxAttempts then
    transition(id, retryEvent, now, error)
    redis.call('HSET', key, 'attempt', attempt + 1, 'seq', 0)
    redis.call('HDEL', key, 'worker')
    redis.call('ZADD', dueKey, now + tonumber(backoffMs), id)
    return 'RETRY_WAIT'
  end
  transition(id, 'ATTEMPTS_EXHAUSTED', now, error)
  redis.call('HSET', key, 'finishedAt', int(now))
  recordDeadJob(id, 'attempts exhausted (' .. maxAttempts .. '): ' .. error, now, retentionMs)
  retain(id, retentionMs)
  return 'DEAD'
end
