-- Accepts jobs of one partition: writes each job and its outbox entry (the due set) in one call,
-- in order, so the SCHEDULER's intake stores a batch of submissions with one call per partition.
-- Idempotent on the producer's key: a repeated key returns the first job (also within one call).
-- ARGV: now, then 22 per job: id, type, pool, payload, idempotencyKey ('' for none), notBeforeMs,
--       maxAttempts, traceparent ('' for none), startToCloseMs ('' for none), stallMs ('' for
--       none), phaseLimits (JSON {phase: ms}, '' for none), scheduleToStartMs ('' for none),
--       scheduleToStartFails ('1' to end the job DEAD past it, '' to publish it again),
--       reserveMs ('' for none: a job due now has its outbox entry reserved for the caller, hidden
--       from dispatchers this long, as reserve_due.lua would; the caller publishes it and marks it
--       dispatched, and an entry never marked shows up again after that time),
--       orderingKey ('' for none: the job goes last in its key's order and gets its outbox entry
--       only when every earlier job of the key has finished, ADR 29), concurrencyKey and
--       concurrencyLimit ('' for none: a job due now takes one of the key's slots or waits for
--       one, ADR 30), orderingPolicy ('block': a keyed job that ends DEAD blocks its key until an
--       operator redrives or discards it; anything else skips it, ADR 29), batchMax and batchBytes
--       ('' for none: with an ordering key, the job's type takes batches of up to batchMax jobs
--       and batchBytes of payload, 0 for no byte limit, ADR 31), tenant ('' for none: the job's
--       `tenant` field, and its idempotency key is stored as `<tenant>:<key>`, so each tenant has
--       its own key space, ADR 40; the `idempotencyKey` field holds that stored name), submitter
--       ('' for none: who submitted it, {"name", "groups"} JSON, checked again at dispatch)
-- KEYS: [1] the partition's key base (each job's ordering key's partition when it has one, else
--   its idempotency key's when it has one)
-- Replies: {results = [...]}, one per job, in order, each ACCEPTED (id, state SUBMITTED or
--   SCHEDULED, reserved = true when the outbox entry was reserved for the caller) | DUPLICATE (id
--   and state of the job the key made first).
-- The same call may run twice: a client sends again what it had written when its connection
-- dropped (Lettuce), or tries again a call whose reply timed out (a Redis Cluster client), and a
-- submission taken again after a failed call keeps the id that call gave it (ADR 60). Each job's id
-- is new to its submission, so a job whose id is already stored was stored by an earlier call for
-- this very submission: it is answered ACCEPTED in the state it has reached, left as it is and
-- reserved for no one (stored again, a claimed job would be SUBMITTED again and run twice).
local now = tonumber(ARGV[1])
local PER_JOB = 22

local function submit(a)
  local id, jobType, pool, payload = ARGV[a + 1], ARGV[a + 2], ARGV[a + 3], ARGV[a + 4]
  local tenant = ARGV[a + 21] or ''
  local idem = ARGV[a + 5]
  if idem ~= '' and tenant ~= '' then idem = tenant .. ':' .. idem end
  local notBefore, maxAttempts = tonumber(ARGV[a + 6]), ARGV[a + 7]

  local key = jobKey(id)
  if idem ~= '' then
    local existing = redis.call('GET', idemKey(idem))
    local existingState = existing and redis.call('HGET', jobKey(existing), 'state')
    if existingState then
      -- this call's own job when it runs again (above)
      return {outcome = existing == id and 'ACCEPTED' or 'DUPLICATE', id = existing,
        state = existingState}
    end
    -- a key whose job has expired (retention) is free again: this submission makes a new job
    redis.call('SET', idemKey(idem), id)
  end
  -- every job is in the partition's index of jobs from its submission on: an id already there is
  -- this call's job, stored when the call ran before (above); no command more for a new job
  if redis.call('ZADD', jobsKey, 'NX', now, id) == 0 then
    local reached = redis.call('HGET', key, 'state')
    if reached then return {outcome = 'ACCEPTED', id = id, state = reached} end
  end

  -- the history is a list of its own, one JSON line per transition, so the job hash keeps Redis's
  -- compact encoding (ADR 28); its first line, SUBMIT, is not stored and the id is the key's, not a
  -- field (ADR 51); `phased` 0: no phase recorded yet; `held` 0: no list yet, and the hash may hold
  -- the first claim's and success's lines (ADR 52); no `seq` until a claim writes it, the one
  -- reader (report.lua) reads it only from a running attempt, nor a `traceparent` unless the
  -- caller sent one (ADR 54)
  local fields = {'type', jobType, 'pool', pool, 'state', 'SUBMITTED', 'attempt', 1,
    'maxAttempts', maxAttempts, 'token', 0, 'payload', payload, 'submittedAt', int(now),
    'phased', '0', 'held', '0'}
  -- the optional fields, each only when given, in the same HSET
  local function optional(name, value)
    if value and value ~= '' then
      fields[#fields + 1] = name
      fields[#fields + 1] = value
    end
  end
  optional('idempotencyKey', idem)
  optional('tenant', tenant)
  optional('submitter', ARGV[a + 22])
  local okey = ARGV[a + 15] ~= nil and ARGV[a + 15] ~= '' and ARGV[a + 15] or nil
  optional('orderingKey', okey)
  if okey and ARGV[a + 18] == 'block' then optional('orderingPolicy', 'block') end
  if okey and ARGV[a + 19] and ARGV[a + 19] ~= '' then
    optional('batchMax', ARGV[a + 19])
    optional('batchBytes', ARGV[a + 20])
  end
  local ckey = ARGV[a + 16] ~= nil and ARGV[a + 16] ~= '' and ARGV[a + 16] or nil
  optional('concurrencyKey', ckey)
  if ckey then optional('concurrencyLimit', ARGV[a + 17]) end
  optional('traceparent', ARGV[a + 8])
  optional('startToCloseMs', ARGV[a + 9])
  optional('stallMs', ARGV[a + 10])
  optional('phaseLimits', ARGV[a + 11])
  if ARGV[a + 12] and ARGV[a + 12] ~= '' then
    optional('scheduleToStartMs', ARGV[a + 12])
    if ARGV[a + 13] == '1' then optional('scheduleToStartFails', '1') end
  end
  redis.call('HSET', key, unpack(fields))
  -- the history's first line (SUBMIT at submittedAt) is not stored: view.lua writes it (ADR 51)
  redis.call('ZADD', stateKey('SUBMITTED'), now, id)

  local state = 'SUBMITTED'
  if notBefore > now then
    state = transition(id, 'SCHEDULE', now, nil, nil,
      {state = 'SUBMITTED', pool = pool, attempt = '1', phased = '0', held = '0', token = '0',
       scheduleToStartMs = ARGV[a + 12] ~= '' and ARGV[a + 12] or nil},
      {'notBefore', int(notBefore)})
  end
  -- a job behind an earlier one of its key waits for it without an outbox entry (leaveKey)
  if okey and not joinKey(id, okey) then
    return {outcome = 'ACCEPTED', id = id, state = state}
  end
  -- a job due now of a concurrency key whose slots are all taken waits for one (freeSlot)
  if ckey and notBefore <= now and not takeSlot(id, ckey, tonumber(ARGV[a + 17]), now, now) then
    return {outcome = 'ACCEPTED', id = id, state = state}
  end
  local reserveMs = ARGV[a + 14] ~= nil and ARGV[a + 14] ~= '' and tonumber(ARGV[a + 14])
  if reserveMs and notBefore <= now then
    redis.call('ZADD', dueKey, now + reserveMs, id)
    return {outcome = 'ACCEPTED', id = id, state = state, reserved = true}
  end
  redis.call('ZADD', dueKey, math.max(notBefore, now), id)
  return {outcome = 'ACCEPTED', id = id, state = state}
end

local results = {}
for a = 1, #ARGV - 1, PER_JOB do
  results[#results + 1] = submit(a)
end
return reply({results = results})
