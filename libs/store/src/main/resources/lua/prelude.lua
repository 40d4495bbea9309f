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

-- The job fields transition() and retain() need, read in one HMGET; a script that reads the job
-- itself reads these too and passes them in (readJob(id, {'seq', ...}) adds its own), so no field
-- is read twice. Missing fields read as nil.
local JOB_FIELDS = {'state', 'pool', 'attempt', 'token', 'worker', 'startToCloseMs', 'stallMs',
                    'phaseLimits', 'scheduleToStartMs', 'idempotencyKey', 'history', 'phased',
                    'orderingKey', 'orderingPolicy', 'concurrencyKey', 'awaited', 'held',
                    'submittedAt'}
local function readJob(id, more)
  local names = {unpack(JOB_FIELDS)}
  for _, name in ipairs(more or {}) do names[#names + 1] = name end
  local values = redis.call('HMGET', jobKey(id), unpack(names))
  local job = {}
  for i, name in ipairs(names) do job[name] = values[i] or nil end
  return job
end

-- A job is finished when nothing but a redrive can change it (SUCCEEDED, DEAD, CANCELLED): every
-- other state may be cancelled.
local function finished(state) return state ~= nil and not allows(state, 'CANCEL') end

-- Ordering keys (ADR 29). The unfinished jobs of a key wait in the key's queue (`keyQueueKey`,
-- scored by their place in its order) in the key's partition, and only the first, the head, may
-- be dispatched or claimed: the others have no outbox entry until the head finishes. A retry, a
-- lease taken back or a released attempt's grace keeps the head where it is, so the next job
-- waits, using no attempt, until the head's outcome is applied or its attempts are used up.
local function keyHead(okey) return redis.call('ZRANGE', keyQueueKey(okey), 0, 0)[1] end

-- Puts the job last in its key's order; returns true when it is the head (the key had no other
-- unfinished job) and may be dispatched now.
local function joinKey(id, okey)
  local place = redis.call('HINCRBY', keyPlacesKey, okey, 1)
  redis.call('ZADD', keyQueueKey(okey), place, id)
  return keyHead(okey) == id
end

-- Takes the finished job out of its key's order; when it was the head, the next job gets its
-- outbox entry, due now or when it was scheduled for.
local function leaveKey(id, okey, now)
  local head = keyHead(okey)
  if redis.call('ZREM', keyQueueKey(okey), id) == 0 or head ~= id then return end
  local nextId = keyHead(okey)
  if not nextId then
    redis.call('HDEL', keyPlacesKey, okey)
    redis.call('HDEL', keysDownKey, okey)
    redis.call('HDEL', keyTxnsKey, okey)
    return
  end
  local notBefore = tonumber(redis.call('HGET', jobKey(nextId), 'notBefore') or '0')
  redis.call('ZADD', dueKey, 'NX', math.max(now, notBefore), nextId)
  -- a status-tracker or recovery applied this: the dispatchers hear of it now, not at their sweep
  if notBefore <= now then redis.call('PUBLISH', wakeKey, nextId) end
end

-- What a finished keyed job does to its key: it leaves it, or, ending DEAD under the `block`
-- policy, stays its head, so the key's later jobs wait until an operator redrives or discards it.
local function finishInKey(id, okey, to, policy, now)
  if to == 'DEAD' and policy == 'block' then
    redis.call('HSETNX', keysDownKey, okey, int(now))
  else
    leaveKey(id, okey, now)
  end
end

-- Whether the job is the head of its ordering key while finished: a DEAD job kept first under the
-- `block` policy (finishInKey), which the key's later jobs wait for.
local function blocksItsKey(id)
  local job = redis.call('HMGET', jobKey(id), 'orderingKey', 'state')
  return job[1] ~= false and finished(job[2] or nil) and keyHead(job[1]) == id
end

-- A DEAD job that blocks its key and its dead-job record are kept until an operator acts, whatever
-- the retention: the key's later jobs wait for it.
local function keepWhileItBlocks(id)
  if blocksItsKey(id) then
    for _, k in ipairs({jobKey(id), historyKey(id), phasesKey(id), deadRecordKey(id)}) do
      redis.call('PERSIST', k)
    end
  end
end

-- Whether the job waits behind an earlier job of its ordering key (and so may not run yet).
local function waitsForItsKey(id, okey) return okey ~= nil and keyHead(okey) ~= id end

-- Concurrency keys (ADR 30). A key has `limit` slots. A job takes one when a dispatcher is about to
-- publish it (reserve_due, or submit for a job due now) and holds it through QUEUED and RUNNING
-- until its attempt ends: a retry, a lease taken back, an outcome. A job that finds every slot
-- taken waits (`keyWaitingKey`, oldest first) with no outbox entry; a freed slot goes straight to
-- the oldest waiting job, which gets its outbox entry due now. Returns true when the job holds a
-- slot (it may be published), false when it now waits.
local function takeSlot(id, ckey, limit, now, waitingSince)
  local active = keyActiveKey(ckey)
  if redis.call('ZSCORE', active, id) then return true end
  if redis.call('ZCARD', active) < limit then
    redis.call('ZADD', active, now, id)
    redis.call('ZREM', keyWaitingKey(ckey), id)
    return true
  end
  redis.call('ZADD', keyWaitingKey(ckey), waitingSince, id)
  return false
end

-- The job's attempt ended (or it finished): its slot, if it held one, goes to the oldest waiting
-- job of the key, and a finished job stops waiting.
local function freeSlot(id, ckey, now, finishedNow)
  if finishedNow then redis.call('ZREM', keyWaitingKey(ckey), id) end
  if redis.call('ZREM', keyActiveKey(ckey), id) == 0 then return end
  local nextId = redis.call('ZRANGE', keyWaitingKey(ckey), 0, 0)[1]
  if nextId then
    redis.call('ZREM', keyWaitingKey(ckey), nextId)
    redis.call('ZADD', keyActiveKey(ckey), now, nextId)
    redis.call('ZADD', dueKey, now, nextId)
    redis.call('PUBLISH', wakeKey, nextId)
  end
end

-- The lines of a job's history its hash holds instead of its history list (ADR 52): a job that
-- runs straight through, submitted, dispatched, claimed and succeeded at its first attempt, has no
-- list at all. `held` says how many: '0' none yet and no list (every job since ADR 52), '1' the
-- first claim's CLAIM line, '2' that and the SUCCEED line after it, 'L' the list exists (the held
-- lines were written out to it first, in their place); a job stored before ADR 52 has no `held`
-- and keeps every line in its list. A held line is written from the fields that say it: the claim's
-- `startedAt`, `token` and `worker`, the success's `succeededAt`. view.lua reads them the same way.
local function heldClaimLine(at, attempt, token, worker)
  return cjson.encode({at = at, from = 'QUEUED', to = 'RUNNING', event = 'CLAIM',
                       attempt = tonumber(attempt), reason = worker, fencingToken = token,
                       workerId = worker})
end
local function heldSuccessLine(at, attempt, token, worker)
  return cjson.encode({at = at, from = 'RUNNING', to = 'SUCCEEDED', event = 'SUCCEED',
                       attempt = tonumber(attempt), fencingToken = token, workerId = worker})
end

-- Applies `events` ({{event, reason, by}, ...}, in order) to the job while the table allows each,
-- and returns the state reached (nil, changing nothing, when the table refuses the first). Each
-- event appends its history line; the state, the state indexes, the timeouts and the per-pool
-- indexes are written once, for the path's first and last state, so a claim that overtakes the
-- dispatcher's confirm (DISPATCH then CLAIM) writes no QUEUED index entry only to remove it.
-- `job` is readJob()'s table (read here when nil) and is updated to the new state; `fields`
-- (optional {name, value, ...}) are written in the same HSET as the state. `by` ({token, worker})
-- names the attempt an attempt event comes from, e.g. the reporter of an outcome; without it the
-- line carries the job's stored token and worker.
local function transitions(id, events, now, job, fields)
  job = job or readJob(id)
  local from, to = job.state, job.state
  local lines = {}
  -- whether a step left RUNNING or QUEUED, or entered QUEUED: the timeouts entry changes
  local timed = false
  local failed = false -- a retryable failure: an ordering key's destination is down
  -- the history is a list of its own (`historyKey`, ADR 28), one JSON line per transition; a job
  -- stored while it was the job hash's `history` field (ADR 23) keeps it there
  local inHash = job.history ~= nil
  -- the first dispatch of a job straight from its submission (SUBMITTED to QUEUED, no reason, no
  -- attempt's token) is the hash's `dispatchedIn` (`dispatchedAt` before ADR 54), not a line: a
  -- job waiting in its queue has no history list, and view.lua writes the line (ADR 51)
  local dispatchedAt = nil
  -- the lines the hash holds (ADR 52, above); nil for a job stored before it
  local held, succeededAt = job.held, nil
  local steps = 0
  for _, e in ipairs(events) do
    local event, reason, by = e[1], e[2], e[3]
    local step = to and T[to] and T[to][event]
    if not step then break end
    steps = steps + 1
    if event == 'FAIL_RETRYABLE' then failed = true end
    if step ~= to and (running(to) or published(to) or published(step)) then timed = true end
    if to == 'SUBMITTED' and published(step) and not inHash and not (reason and reason ~= '') then
      dispatchedAt = int(now)
    elseif held == '0' and #lines == 0 and not inHash and event == 'CLAIM' and by
           and reason == by.worker then
      -- the first claim, by a worker, of a job with no line stored: the hash holds its line
      held = '1'
    elseif held == '1' and #lines == 0 and event == 'SUCCEED' and not (reason and reason ~= '')
           and by and by.token == job.token and (by.worker == nil or by.worker == job.worker) then
      -- and that attempt's success, reported by the claim's worker under the claim's token
      held, succeededAt = '2', int(now)
    else
      local entry = {at = int(now), from = to, to = step, event = event,
                     attempt = tonumber(job.attempt)}
      if reason and reason ~= '' then entry.reason = reason end
      -- what an attempt did carries that attempt's fencing token and worker (for an outcome, the
      -- reporter's), so anyone can check that an outcome came from the attempt holding the current
      -- one
      if ATTEMPT_EVENTS[event] then
        entry.fencingToken = (by and by.token) or job.token
        entry.workerId = (by and by.worker) or job.worker
      end
      lines[#lines + 1] = cjson.encode(entry)
    end
    to = step
  end
  if steps == 0 then return nil end
  local key = jobKey(id)
  local hset = {'state', to}
  if dispatchedAt then
    -- as milliseconds after `submittedAt` (ADR 54): a short integer in the hash, where a time
    -- takes nine bytes; a job table without `submittedAt` gets the time itself, as before
    local submitted = tonumber(job.submittedAt)
    if submitted then
      hset[3], hset[4] = 'dispatchedIn', int(now - submitted)
    else
      hset[3], hset[4] = 'dispatchedAt', dispatchedAt
    end
  end
  -- a line to store: the lines the hash held go first, as they would have been stored, and from
  -- now on every line is stored (the claim's fields change with the next claim)
  if held and held ~= 'L' and #lines > 0 and not inHash then
    if held ~= '0' then
      local stored = redis.call('HMGET', key, 'startedAt', 'succeededAt')
      local first = {heldClaimLine(stored[1], 1, job.token, job.worker)}
      if held == '2' then first[2] = heldSuccessLine(stored[2], 1, job.token, job.worker) end
      for _, line in ipairs(lines) do first[#first + 1] = line end
      lines = first
    end
    held = 'L'
  end
  if held ~= job.held then
    hset[#hset + 1], hset[#hset + 2] = 'held', held
    job.held = held
  end
  if succeededAt then
    hset[#hset + 1], hset[#hset + 2] = 'succeededAt', succeededAt
  end
  if inHash then
    job.history = job.history .. '\n' .. table.concat(lines, '\n')
    hset[3], hset[4] = 'history', job.history
  end
  for _, v in ipairs(fields or {}) do hset[#hset + 1] = v end
  redis.call('HSET', key, unpack(hset))
  -- the RUNNING jobs are listed by their leases (`leasesKey`, holdLease and releaseLease), the
  -- QUEUED jobs by their pool's `queued` index (below): no state index of their own (ADR 38, 51)
  if not (running(to) or published(to)) then redis.call('ZADD', stateKey(to), now, id) end
  if to ~= from then
    if not (running(from) or published(from)) then redis.call('ZREM', stateKey(from), id) end
    -- every way out of RUNNING ends the attempt's timeouts, and every way out of QUEUED its wait's
    -- (scheduleToStart); a job without timeouts pays nothing
    if timed then
      if job.startToCloseMs or job.stallMs or job.phaseLimits or job.scheduleToStartMs then
        redis.call('ZREM', timeoutsKey, id)
      end
      if published(to) and job.scheduleToStartMs then
        redis.call('ZADD', timeoutsKey, now + tonumber(job.scheduleToStartMs), id)
      end
    end
    -- the per-pool index of waiting jobs, `queued`, keeps when each began to wait (queue depth
    -- and oldest-job age); `requeued` is written by the stale-queued pass alone (requeue_stale.lua)
    if published(to) then
      redis.call('ZADD', queuedKey(job.pool), now, id)
    elseif published(from) then
      redis.call('ZREM', queuedKey(job.pool), id)
    end
  end
  if not inHash and #lines > 0 then redis.call('RPUSH', historyKey(id), unpack(lines)) end
  -- an attempt that ended gives its concurrency slot on (ADR 30)
  if job.concurrencyKey and to ~= from and not (running(to) or published(to)) then
    freeSlot(id, job.concurrencyKey, now, finished(to))
  end
  -- a client waits for this job (await.lua): the scheduler hears of its end at once
  if job.awaited and to ~= from and finished(to) and not finished(from) then
    redis.call('PUBLISH', finishedKey, id)
  end
  -- a finished job lets its key's next job go (or blocks it, finishInKey); a redriven one goes
  -- last in its key's order, or stays its head when it blocked it. A retryable failure marks the
  -- key DOWN and a success UP again (ADR 29).
  local okey = job.orderingKey
  if okey and to ~= from then
    if finished(to) and not finished(from) then
      finishInKey(id, okey, to, job.orderingPolicy, now)
    elseif finished(from) and not finished(to) then
      if not redis.call('ZSCORE', keyQueueKey(okey), id) then joinKey(id, okey) end
    end
    if failed then
      redis.call('HSETNX', keysDownKey, okey, int(now))
    elseif to == 'SUCCEEDED' then
      redis.call('HDEL', keysDownKey, okey)
    end
  end
  job.state = to
  return to
end

-- Applies one `event` to the job if the table allows it (see transitions()) and returns the new
-- state, nil when the change is illegal.
local function transition(id, event, now, reason, by, job, fields)
  return transitions(id, {{event, reason, by}}, now, job, fields)
end

-- A new fencing token: greater than every token this job had, and never below the server clock
-- in microseconds, so a Redis that lost its last writes (AOF everysec) still never reissues one.
-- `stored` is the job's token field as read; the caller stores the new one.
local function nextToken(stored)
  local t = redis.call('TIME')
  local micros = tonumber(t[1]) * 1000000 + tonumber(t[2])
  return math.max(tonumber(stored or '0') + 1, micros)
end

-- Holds the running attempt's lease `ttl` longer: the lease names its worker and fencing token,
-- and the partition's lease deadlines (what the reaper reads) move with it. A claim starts the
-- lease; a renewal (`extend`) only moves its deadline on, never back: an older renewal that
-- reaches Redis after a newer one (its reply lost, sent again) leaves the newer deadline.
local function holdLease(id, worker, token, ttl, now, extend)
  redis.call('SET', leaseKey(id), worker .. '|' .. token, 'PX', ttl)
  if extend then
    redis.call('ZADD', leasesKey, 'GT', now + ttl, id)
  else
    redis.call('ZADD', leasesKey, now + ttl, id)
  end
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
local function retain(id, retentionMs, job)
  local ttl = tonumber(retentionMs)
  local state, idem, history, phased, held
  if job then
    state, idem, history, phased, held = job.state, job.idempotencyKey, job.history, job.phased,
                                         job.held
  else
    local read = redis.call('HMGET', jobKey(id), 'state', 'idempotencyKey', 'history', 'phased',
                            'held')
    state, idem, history, phased, held = read[1], read[2], read[3], read[4], read[5]
  end
  -- a job an operator may still redrive (DEAD) is kept as long as its dead-job record
  if allows(state, 'REDRIVE') then ttl = DEAD_RETENTION_MS end
  if ttl > 0 then
    redis.call('PEXPIRE', jobKey(id), ttl)
    -- the history list (every job but one stored with its history in the hash, ADR 23, or one
    -- whose hash holds every line it has, ADR 52)
    if not history and (held == nil or held == 'L') then
      redis.call('PEXPIRE', historyKey(id), ttl)
    end
    -- the phases, when a report recorded any (`phased` 1); a job stored before `phased` existed
    -- (neither it nor a `history` field) never says, so its phases are expired in any case
    if phased == '1' or (not history and not phased) then
      redis.call('PEXPIRE', phasesKey(id), ttl)
    end
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
  local job = redis.call('HMGET', key, 'type', 'attempt')
  local record = {id = id, jobId = id, type = job[1], reason = reason, source = 'job',
                  attempts = tonumber(job[2]), at = int(now)}
  storeDeadRecord(id, cjson.encode(record), now)
end

-- Transactions (ADR 31). The head of an ordering key whose type takes batches carries the key's
-- next waiting jobs (`txnMembers`, chosen at its claim, claim.lua) in its attempt, and they end
-- with it: its success ends each SUCCEEDED, in the key's order, with its own history lines (claimed
-- and finished by the head's attempt, under its fencing token); a head that ends DEAD and lets its
-- key go on (`skip`) ends them DEAD with it. A head that retries, loses its lease, is cancelled or
-- blocks its key leaves them waiting with no attempt used: its next attempt carries the same ones
-- again, under the same transaction id. A member cancelled meanwhile is left as it is.
local function finishTransaction(id, to, error, now, retentionMs)
  local head = redis.call('HMGET', jobKey(id), 'txn', 'txnMembers', 'token', 'worker', 'startedAt',
                          'orderingPolicy')
  local txn, members = head[1], head[2]
  if not txn or not members or (to == 'DEAD' and head[6] == 'block') then return end
  local by = {token = head[3], worker = head[4]}
  local why = 'in transaction ' .. txn .. ' with ' .. id
  for _, m in ipairs(cjson.decode(members)) do
    local job = readJob(m)
    if awaitsWorker(job.state) then
      local events = {{'CLAIM', why, by}}
      if not published(job.state) then table.insert(events, 1, {'DISPATCH'}) end
      if to == 'SUCCEEDED' then
        events[#events + 1] = {'SUCCEED', why, by}
      else
        events[#events + 1] = {'FAIL_PERMANENT', error, by}
      end
      local fields = {'token', by.token, 'worker', by.worker, 'startedAt', head[5] or int(now),
                      'finishedAt', int(now)}
      if to ~= 'SUCCEEDED' then
        fields[#fields + 1] = 'lastError'
        fields[#fields + 1] = error
      end
      if transitions(m, events, now, job, fields) == to then
        redis.call('ZREM', dueKey, m)
        if to ~= 'SUCCEEDED' then
          recordDeadJob(m, 'failed with transaction ' .. txn .. ': ' .. error, now, retentionMs)
        end
        retain(m, retentionMs, job)
      end
    end
  end
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
  keepWhileItBlocks(id)
  finishTransaction(id, to, error, now, retentionMs)
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
  keepWhileItBlocks(id)
  finishTransaction(id, 'DEAD', error, now, retentionMs)
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
  local read = redis.call('HMGET', key, 'attempt', 'maxAttempts', 'outcomeAt')
  local attempt, maxAttempts = tonumber(read[1]), tonumber(read[2])
  local released = retryEvent == 'LEASE_EXPIRED'
  local published = released and read[3]
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
