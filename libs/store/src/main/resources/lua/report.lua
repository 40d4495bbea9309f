-- Applies one status event of the attempt holding the current fencing token. Stale tokens are
-- refused; duplicates and late arrivals (sequence not above the last applied) change nothing.
-- The outcome (SUCCEEDED or FAILED) of an attempt whose lease was released before the outcome
-- came (RETRY_WAIT or QUEUED, token unchanged: no new claim yet) is still applied, as the outcome
-- of that attempt (ADR 14); its other events are refused as FINISHED.
-- KEYS: [1] the partition's key base
-- ARGV: id, token, sequence, event (PHASE_STARTED, PHASE_ENDED, PROGRESS, HEARTBEAT, SUCCEEDED,
--       FAILED), atMs, phase, percent, message, error, retryable, now, backoffMs, retentionMs,
--       workerId (the reporter, recorded in the history)
-- Replies: MISSING | STALE (another attempt's token) | FINISHED (the job runs no attempt, and this
--   is no late outcome) | DUPLICATE (sequence not above the last applied) | APPLIED, with the job's
--   state; a Redis error for an unknown event.
local id, token, seq, event = ARGV[1], ARGV[2], tonumber(ARGV[3]), ARGV[4]
local at, phase, percent, message = ARGV[5], ARGV[6], ARGV[7], ARGV[8]
local error, retryable, now = ARGV[9], ARGV[10] == 'true', tonumber(ARGV[11])
local backoffMs, retentionMs = ARGV[12], ARGV[13]
local by = {token = token, worker = ARGV[14] ~= '' and ARGV[14] or nil}
local outcome = event == 'SUCCEEDED' or event == 'FAILED'
-- the event an outcome applies
local ending = (event == 'SUCCEEDED' and 'SUCCEED') or (retryable and 'FAIL_RETRYABLE')
               or 'FAIL_PERMANENT'
local key = jobKey(id)
local job = readJob(id, {'seq', 'releasedAttempt', 'currentPhase'})
if not job.state then return reply({outcome = 'MISSING'}) end
if job.token ~= token then return reply({outcome = 'STALE', state = job.state}) end

-- SUCCEEDED or FAILED of the attempt holding the token: ends it, whatever its state now.
-- `fields` are written with the new state.
local function applyOutcome(reason, fields)
  if event == 'SUCCEEDED' then
    releaseLease(id)
    local hset = {'finishedAt', at}
    for _, v in ipairs(fields) do hset[#hset + 1] = v end
    transition(id, 'SUCCEED', now, reason, by, job, hset)
    retain(id, retentionMs, job)
    return 'SUCCEEDED'
  end
  if #fields > 0 then redis.call('HSET', key, unpack(fields)) end
  if retryable then
    return retryOrDie(id, 'FAIL_RETRYABLE', error, now, backoffMs, retentionMs, by, 0)
  end
  releaseLease(id)
  endDead(id, 'FAIL_PERMANENT', error, 'permanent failure: ' .. error, now, at, retentionMs, by)
  return 'DEAD'
end

if not running(job.state) then
  if outcome and job.releasedAttempt and allows(job.state, ending) then
    -- The lease went (drain, over capacity, lost worker, expiry) but no attempt claimed the job
    -- since: the outcome is that attempt's. Its number comes back, and the re-dispatch is
    -- cancelled; a work message already published for the next attempt is refused at claim.
    redis.call('HDEL', key, 'releasedAttempt', 'leaseExpiredAt')
    redis.call('ZREM', dueKey, id)
    local released = job.releasedAttempt
    job.attempt = released
    local state = applyOutcome('outcome of attempt ' .. released .. ' after its lease was released',
                               {'attempt', released, 'seq', seq})
    return reply({outcome = 'APPLIED', state = state})
  end
  return reply({outcome = 'FINISHED', state = job.state})
end
if seq <= tonumber(job.seq) then return reply({outcome = 'DUPLICATE', state = job.state}) end
if outcome then
  return reply({outcome = 'APPLIED', state = applyOutcome(nil, {'seq', seq})})
end
local attempt = job.attempt
-- the fields this report writes, in one HSET
local hset = {'seq', seq}
-- a phase report writes the phases hash: retain() expires it with the job
if event == 'PHASE_STARTED' or event == 'PHASE_ENDED' then
  table.insert(hset, 'phased') table.insert(hset, '1')
end

if event == 'PHASE_STARTED' then
  redis.call('HSETNX', phasesKey(id), attempt .. '|' .. phase .. '|start', at)
  -- a phase with its own limit: the attempt's timeout deadline comes no later than its end
  local limit = job.phaseLimits and cjson.decode(job.phaseLimits)[phase]
  if limit then
    table.insert(hset, 'currentPhase') table.insert(hset, phase)
    table.insert(hset, 'currentPhaseAt') table.insert(hset, int(now))
    redis.call('ZADD', timeoutsKey, 'LT', now + tonumber(limit), id)
  end
elseif event == 'PHASE_ENDED' then
  redis.call('HSETNX', phasesKey(id), attempt .. '|' .. phase .. '|end', at)
  if job.phaseLimits and job.currentPhase == phase then
    redis.call('HDEL', key, 'currentPhase', 'currentPhaseAt')
  end
elseif event == 'PROGRESS' then
  table.insert(hset, 'progress') table.insert(hset, percent)
  table.insert(hset, 'progressMessage') table.insert(hset, message)
elseif event == 'HEARTBEAT' then
  -- the details (JSON, in `message`) outlive the attempt: the next one's claim hands them over
  if message ~= '' then table.insert(hset, 'heartbeatDetails') table.insert(hset, message) end
else
  return redis.error_reply('unknown status event ' .. event)
end
-- a phase, progress or heartbeat report shows the attempt moves: its stall deadline starts again
-- (ADR 18)
if job.stallMs then table.insert(hset, 'lastReportAt') table.insert(hset, int(now)) end
redis.call('HSET', key, unpack(hset))
return reply({outcome = 'APPLIED', state = job.state})
