-- Accepts a job: writes the job and its outbox entry (the due set) in one call.
-- Idempotent on the producer's key: a repeated key returns the first job.
-- ARGV: id, type, pool, payload, idempotencyKey ('' for none), notBeforeMs, maxAttempts, now,
--       traceparent ('' for none), startToCloseMs ('' for none), stallMs ('' for none),
--       phaseLimits (JSON {phase: ms}, '' for none), scheduleToStartMs ('' for none),
--       scheduleToStartFails ('1' to end the job DEAD past it, '' to publish it again)
-- KEYS: [1] the partition's key base (the idempotency key's partition when there is one)
-- Replies: ACCEPTED (id, state SUBMITTED or SCHEDULED) | DUPLICATE (id and state of the job the
--   key made first).
local id, jobType, pool, payload, idem = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local notBefore, maxAttempts, now = tonumber(ARGV[6]), ARGV[7], tonumber(ARGV[8])

if idem ~= '' then
  local existing = redis.call('GET', idemKey(idem))
  local existingState = existing and redis.call('HGET', jobKey(existing), 'state')
  if existingState then
    return reply({outcome = 'DUPLICATE', id = existing, state = existingState})
  end
  -- a key whose job has expired (retention) is free again: this submission makes a new job
  redis.call('SET', idemKey(idem), id)
end

local key = jobKey(id)
redis.call('HSET', key, 'id', id, 'type', jobType, 'pool', pool, 'state', 'SUBMITTED',
  'attempt', 1, 'maxAttempts', maxAttempts, 'token', 0, 'seq', 0, 'payload', payload,
  'submittedAt', int(now))
if idem ~= '' then redis.call('HSET', key, 'idempotencyKey', idem) end
if ARGV[9] and ARGV[9] ~= '' then redis.call('HSET', key, 'traceparent', ARGV[9]) end
if ARGV[10] and ARGV[10] ~= '' then redis.call('HSET', key, 'startToCloseMs', ARGV[10]) end
if ARGV[11] and ARGV[11] ~= '' then redis.call('HSET', key, 'stallMs', ARGV[11]) end
if ARGV[12] and ARGV[12] ~= '' then redis.call('HSET', key, 'phaseLimits', ARGV[12]) end
if ARGV[13] and ARGV[13] ~= '' then
  redis.call('HSET', key, 'scheduleToStartMs', ARGV[13])
  if ARGV[14] == '1' then redis.call('HSET', key, 'scheduleToStartFails', '1') end
end
redis.call('ZADD', stateKey('SUBMITTED'), now, id)
redis.call('ZADD', jobsKey, now, id)
redis.call('RPUSH', historyKey(id),
  cjson.encode({at = int(now), to = 'SUBMITTED', event = 'SUBMIT', attempt = 1}))

local state = 'SUBMITTED'
if notBefore > now then
  redis.call('HSET', key, 'notBefore', int(notBefore))
  state = transition(id, 'SCHEDULE', now, nil)
end
redis.call('ZADD', dueKey, math.max(notBefore, now), id)
return reply({outcome = 'ACCEPTED', id = id, state = state})
