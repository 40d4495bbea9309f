-- A worker takes an attempt: lease (SET NX PX) + new fencing token + RUNNING, in one call.
-- The same worker claiming the attempt it already holds gets the same token again: its first
-- claim ran but the reply was lost, and the redelivered message must run the job, not be dropped.
-- The job (RUNNING, this worker, this attempt) says who holds it, not the lease key: an outage that
-- lost the reply may also outlast the key's own expiry, and until recovery takes the attempt back
-- (which changes the job) it is still this worker's, as a late renewal is (renew.lua).
-- KEYS: [1] the partition's key base
-- ARGV: id, attempt, workerId, ttlMs, now
-- Replies: CLAIMED (token, startToCloseMs, stallMs, phaseLimits, heartbeatDetails: the attempt's
--   timeouts and what an earlier attempt's last heartbeat left; txn and batch [{id, payload}]: the
--   attempt's transaction, for a job whose type takes batches, ADR 31) | MISSING | STALE_ATTEMPT (another
--   attempt is current) | NOT_CLAIMABLE (the job waits for no worker, for the outcome of this
--   released attempt, or behind an earlier job of its ordering key) | HELD (another worker holds the lease); all but MISSING with the job's state.
local id, attempt, worker, ttl, now = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4]), tonumber(ARGV[5])
local key = jobKey(id)
local job = readJob(id, {'releasedAttempt', 'heartbeatDetails', 'type', 'batchMax', 'batchBytes',
                         'txn', 'txnMembers'})

-- The transaction of a job whose type takes batches (ADR 31): its ordering key's next waiting jobs
-- of its type, up to `batchMax` jobs and `batchBytes` of payload in all, under a transaction id
-- above every earlier one of the key, both stored here, before any of it is sent. An attempt after
-- the first carries the same jobs (those still waiting) under the same id, so a destination that
-- applied it already can tell. Returns the id and the members, each {id, payload}.
local function transaction(now)
  local okey = job.orderingKey
  local members = {}
  if job.txn and job.txnMembers then
    for _, m in ipairs(cjson.decode(job.txnMembers)) do
      if awaitsWorker(redis.call('HGET', jobKey(m), 'state'))
         and redis.call('ZSCORE', keyQueueKey(okey), m) then
        members[#members + 1] = m
      end
    end
  else
    job.txn = int(nextToken(redis.call('HGET', keyTxnsKey, okey)))
    redis.call('HSET', keyTxnsKey, okey, job.txn)
    local bytes, used = tonumber(job.batchBytes or '0'), redis.call('HSTRLEN', key, 'payload')
    for _, m in ipairs(redis.call('ZRANGE', keyQueueKey(okey), 1, tonumber(job.batchMax) - 1)) do
      local other = redis.call('HMGET', jobKey(m), 'state', 'type', 'notBefore')
      if not awaitsWorker(other[1]) or other[2] ~= job.type
         or tonumber(other[3] or '0') > now then break end
      local size = redis.call('HSTRLEN', jobKey(m), 'payload')
      if bytes > 0 and used + size > bytes then break end
      used = used + size
      members[#members + 1] = m
    end
    redis.call('HSET', key, 'txn', job.txn, 'txnMembers', cjson.encode(members))
    for _, m in ipairs(members) do redis.call('HSET', jobKey(m), 'txn', job.txn) end
  end
  local batch = {}
  for i, m in ipairs(members) do
    batch[i] = {id = m, payload = redis.call('HGET', jobKey(m), 'payload')}
  end
  return job.txn, batch
end

-- what the worker enforces locally too, what an earlier attempt's last heartbeat left, and the
-- attempt's transaction when the job's type takes batches
local function claimed(token)
  local out = {outcome = 'CLAIMED', token = token, startToCloseMs = job.startToCloseMs,
               stallMs = job.stallMs, heartbeatDetails = job.heartbeatDetails}
  if job.phaseLimits then out.phaseLimits = cjson.decode(job.phaseLimits) end
  if job.batchMax and job.orderingKey then
    local txn, batch = transaction(now)
    out.txn = txn
    if #batch > 0 then out.batch = batch end
  end
  return reply(out)
end
local state = job.state
if not state then return reply({outcome = 'MISSING'}) end
if job.attempt ~= attempt then return reply({outcome = 'STALE_ATTEMPT', state = state}) end
if running(state) and job.worker == worker then
  holdLease(id, worker, job.token, ttl, now)
  return claimed(job.token)
end
-- a released last attempt waits in RETRY_WAIT for its outcome, not for another run (ADR 14)
if not awaitsWorker(state) or job.releasedAttempt == attempt
   or waitsForItsKey(id, job.orderingKey) then
  return reply({outcome = 'NOT_CLAIMABLE', state = state})
end
local token = int(nextToken(job.token))
if redis.call('SET', leaseKey(id), worker .. '|' .. token, 'NX', 'PX', ttl) == false then
  return reply({outcome = 'HELD', state = state})
end
redis.call('ZADD', leasesKey, now + ttl, id)
-- a job that waits to be published, or whose publish is not yet confirmed, leaves the outbox; a
-- QUEUED one left it when its publish was confirmed (mark_dispatched), unless it was published
-- again (requeue_stale, timeout): that entry stays, and the dispatcher drops it on
-- finding the job no longer waits for a worker (reserve_due) (ADR 51)
if not published(state) then redis.call('ZREM', dueKey, id) end
-- what an earlier attempt left behind; a job never claimed (token 0) has none of it
if job.token ~= '0' then
  redis.call('HDEL', key, 'progress', 'progressMessage', 'outcomeAt', 'releasedAttempt',
             'lastReportAt', 'currentPhase', 'currentPhaseAt')
end
-- The work message can overtake the dispatcher's confirm: the claim dispatches first (the table
-- refuses it, changing nothing, when the job was published already); both lines go to the history.
local events = {{'CLAIM', worker, {token = token, worker = worker}}}
if not published(state) then table.insert(events, 1, {'DISPATCH'}) end
transitions(id, events, now, job, {'token', token, 'worker', worker, 'seq', 0, 'startedAt', int(now)})
-- the attempt's first timeout deadline; timeout.lua moves it on as reports come (ADR 18)
if job.startToCloseMs or job.stallMs then
  local deadline = math.huge
  if job.startToCloseMs then deadline = math.min(deadline, now + tonumber(job.startToCloseMs)) end
  if job.stallMs then deadline = math.min(deadline, now + tonumber(job.stallMs)) end
  redis.call('ZADD', timeoutsKey, deadline, id)
end
return claimed(token)
