-- Applies status events in order, each only from the attempt holding the job's fencing token: one
-- call applies a batch of events of one partition (the status-tracker's batch, ADR 27). Stale
-- tokens are refused; duplicates and late arrivals (sequence not above the last applied) change
-- nothing. The outcome (SUCCEEDED or FAILED) of an attempt whose lease was released before the
-- outcome came (RETRY_WAIT or QUEUED, token unchanged: no new claim yet) is still applied, as the
-- outcome of that attempt (ADR 14); its other events are refused as FINISHED.
-- KEYS: [1] the partition's key base
-- ARGV: now, retentionMs, then 12 per event: id, token, sequence, event (PHASE_STARTED,
--       PHASE_ENDED, PROGRESS, HEARTBEAT, SUCCEEDED, FAILED), atMs, phase, percent, message,
--       error, retryable, backoffMs, workerId (the reporter, recorded in the history)
-- Replies: {results = [...]}, one per event, in order, each MISSING | STALE (another attempt's
--   token, or the attempt's token from another worker than the one that claimed it) | FINISHED (the job runs no attempt, and this is no late outcome) | DUPLICATE (sequence
--   not above the last applied) | APPLIED, with the job's state. A Redis error for an unknown
--   event, after the events before it were applied.
local now, retentionMs = tonumber(ARGV[1]), ARGV[2]

local function report(id, token, seq, event, at, phase, percent, message, error, retryable,
                      backoffMs, workerId)
  local by = {token = token, worker = workerId ~= '' and workerId or nil}
  local outcome = event == 'SUCCEEDED' or event == 'FAILED'
  -- the event an outcome applies
  local ending = (event == 'SUCCEEDED' and 'SUCCEED') or (retryable and 'FAIL_RETRYABLE')
                 or 'FAIL_PERMANENT'
  local key = jobKey(id)
  local job = readJob(id, {'seq', 'releasedAttempt', 'currentPhase'})
  if not job.state then return {outcome = 'MISSING'} end
  if job.token ~= token then return {outcome = 'STALE', state = job.state} end
  -- the token is bound to the worker that claimed it (issue 17): with another worker's id it is
  -- refused too, so a token that leaked counts only for its own worker. A released attempt has no
  -- worker any more (its late outcome still counts, ADR 14), nor has an event without a worker id.
  if workerId ~= '' and job.worker and job.worker ~= workerId then
    return {outcome = 'STALE', state = job.state}
  end

  -- SUCCEEDED or FAILED of the attempt holding the token: ends it, whatever its state now.
  -- `fields` are written with the new state.
  local function applyOutcome(reason, fields)
    if event == 'SUCCEEDED' then
      releaseLease(id)
      local hset = {'finishedAt', at}
      for _, v in ipairs(fields) do hset[#hset + 1] = v end
      transition(id, 'SUCCEED', now, reason, by, job, hset)
      retain(id, retentionMs, job)
      if job.orderingKey then finishTransaction(id, 'SUCCEEDED', nil, now, retentionMs) end
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
      local state = applyOutcome('outcome of attempt ' .. released
                                 .. ' after its lease was released',
                                 {'attempt', released, 'seq', seq})
      return {outcome = 'APPLIED', state = state}
    end
    return {outcome = 'FINISHED', state = job.state}
  end
  if seq <= tonumber(job.seq or '0') then return {outcome = 'DUPLICATE', state = job.state} end
  if outcome then
    return {outcome = 'APPLIED', state = applyOutcome(nil, {'seq', seq})}
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
  return {outcome = 'APPLIED', state = job.state}
end

local results = {}
for i = 3, #ARGV, 12 do
  local r = report(ARGV[i], ARGV[i + 1], tonumber(ARGV[i + 2]), ARGV[i + 3], ARGV[i + 4],
                   ARGV[i + 5], ARGV[i + 6], ARGV[i + 7], ARGV[i + 8], ARGV[i + 9] == 'true',
                   ARGV[i + 10], ARGV[i + 11])
  if r.err then return r end
  results[#results + 1] = r
end
return reply({results = results})
