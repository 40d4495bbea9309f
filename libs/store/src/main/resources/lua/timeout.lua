-- The timeout pass (ADR 18): ends running attempts that passed their startToClose timeout (the
-- longest one attempt may run, from its claim), their stall timeout (the longest it may go
-- without an applied phase or progress report) or the limit of the phase they run. The
-- partition's `timeouts` set holds each running attempt's earliest deadline as claim.lua wrote it
-- (and a phase start with a limit brought forward, report.lua); other reports do not touch the
-- set, so a member found due is checked against the job and moved to its new deadline when
-- reports pushed it.
-- A timed-out attempt ends as a retryable failure of its own, through retryOrDie: the lease goes,
-- the attempt counter moves on (so its later reports are refused), and its last attempt goes DEAD
-- with a record naming the timeout. Its late outcome is not accepted, unlike a released lease's
-- (ADR 14): the attempt is over because it ran too long, not because its worker went away. An
-- attempt whose worker marked its outcome published (`outcomeAt`, renewed on every hold) is not
-- hung, its handler is done: it leaves the set and its lease decides (ADR 11), so a status-tracker
-- that lags does not turn a finished attempt into a re-run.
-- KEYS: [1] the partition's key base
-- ARGV: now, limit, backoffMs, retentionMs
-- Replies: {timedOut = [{id, worker, attempt, state, type, pool, timeout, token}], rescheduled,
--   dropped}
--   timeout is 'startToClose', 'stall', 'phase:<name>' or 'scheduleToStart'; state is where the
--   job went (RETRY_WAIT or DEAD; QUEUED for a job published again after its scheduleToStart).
local now, limit, backoffMs, retentionMs = tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3], ARGV[4]
local timedOut, rescheduled, dropped = {}, 0, 0

-- Nothing bounds the job now: it leaves the set.
local function drop(id)
  redis.call('ZREM', timeoutsKey, id)
  dropped = dropped + 1
end

-- Reports pushed its deadline on: it moves there.
local function reschedule(id, deadline)
  redis.call('ZADD', timeoutsKey, deadline, id)
  rescheduled = rescheduled + 1
end

-- A QUEUED job with a scheduleToStart timeout: its wait (since it was queued, the `queued` index,
-- or since it was last published again, the `requeued` one, whichever is later) is bounded. Past it the job type decides: DEAD with
-- timeout:scheduleToStart (FAIL_PERMANENT, the same path as a permanent failure), or published
-- again with a fresh wait (state QUEUED in the reply).
local function waitedTooLong(id, job)
  local requeued = requeuedKey(job[10])
  local since = math.max(tonumber(redis.call('ZSCORE', queuedKey(job[10]), id) or 0),
                         tonumber(redis.call('ZSCORE', requeued, id) or 0))
  if since == 0 then since = now end
  local deadline = job[15] and since + tonumber(job[15])
  if not deadline then return drop(id) end
  if deadline > now then return reschedule(id, deadline) end
  local reason = 'timeout:scheduleToStart'
  local state = 'QUEUED'
  if job[16] == '1' then
    redis.call('ZREM', dueKey, id)
    state = endDead(id, 'FAIL_PERMANENT', reason, reason, now, int(now), retentionMs, nil)
  else
    redis.call('ZADD', requeued, now, id)
    redis.call('ZADD', dueKey, now, id)
    redis.call('ZADD', timeoutsKey, now + tonumber(job[15]), id)
  end
  timedOut[#timedOut + 1] = {id = id, attempt = tonumber(job[8]), state = state, type = job[9],
                             pool = job[10], timeout = 'scheduleToStart'}
end

-- A RUNNING attempt: its earliest deadline of startToClose, stall and the running phase's limit.
local function ranTooLong(id, job)
  local startedAt = tonumber(job[2])
  -- the earliest deadline, and which timeout it belongs to (startToClose on a tie)
  local deadline, which = math.huge, nil
  if startedAt then
    if job[4] then deadline, which = startedAt + tonumber(job[4]), 'startToClose' end
    if job[5] then
      local stall = math.max(startedAt, tonumber(job[3] or 0)) + tonumber(job[5])
      if stall < deadline then deadline, which = stall, 'stall' end
    end
    -- the running phase's own limit, from its applied start (report.lua)
    local phaseLimit = job[12] and job[13] and cjson.decode(job[12])[job[13]]
    if phaseLimit then
      local phaseEnd = tonumber(job[14]) + tonumber(phaseLimit)
      if phaseEnd < deadline then deadline, which = phaseEnd, 'phase:' .. job[13] end
    end
  end
  -- not running, or done (its outcome published), or nothing bounds it now (only phase limits,
  -- and no limited phase runs: the next one to start puts it back)
  if not running(job[1]) or not which or job[6] then
    drop(id)
  else
    if deadline > now then
      reschedule(id, deadline)
    else
      local reason = 'timeout:' .. which
      local state = retryOrDie(id, 'FAIL_RETRYABLE', reason, now, backoffMs, retentionMs, nil, nil)
      timedOut[#timedOut + 1] = {id = id, worker = job[7], attempt = tonumber(job[8]),
                                 state = state, type = job[9], pool = job[10], timeout = which,
                                 token = job[11]}
    end
  end
end

local found = redis.call('ZRANGEBYSCORE', timeoutsKey, '-inf', now, 'LIMIT', 0, limit)
for _, id in ipairs(found) do
  local job = redis.call('HMGET', jobKey(id), 'state', 'startedAt', 'lastReportAt',
                         'startToCloseMs', 'stallMs', 'outcomeAt', 'worker', 'attempt', 'type',
                         'pool', 'token', 'phaseLimits', 'currentPhase', 'currentPhaseAt',
                         'scheduleToStartMs', 'scheduleToStartFails')
  if published(job[1]) then waitedTooLong(id, job) else ranTooLong(id, job) end
end
return reply({timedOut = timedOut, rescheduled = rescheduled, dropped = dropped})
