-- Puts a DEAD job back for one more attempt: REDRIVE (DEAD -> QUEUED), a new attempt number that
-- its maxAttempts allows, and an outbox entry due now. Its dead-job record is deleted and leaves
-- whichever index lists it (dead or discarded). Its keys and its idempotency key expire no more
-- (retention starts again when it finishes).
-- KEYS: [1] the partition's key base
-- ARGV: id, now, by
-- Replies: MISSING | NOT_DEAD (with the job's state: the table allows no REDRIVE from it) |
--   REDRIVEN (state QUEUED, attempt: the new attempt number).
local id, now, by = ARGV[1], tonumber(ARGV[2]), ARGV[3]
local key = jobKey(id)
local state = redis.call('HGET', key, 'state')
if not state then return reply({outcome = 'MISSING'}) end
if not allows(state, 'REDRIVE') then return reply({outcome = 'NOT_DEAD', state = state}) end
local attempt = tonumber(redis.call('HGET', key, 'attempt')) + 1
local maxAttempts = math.max(tonumber(redis.call('HGET', key, 'maxAttempts')), attempt)
redis.call('HSET', key, 'attempt', attempt, 'maxAttempts', maxAttempts, 'seq', 0)
redis.call('HDEL', key, 'finishedAt', 'worker', 'progress', 'progressMessage')
transition(id, 'REDRIVE', now, 'redriven by ' .. by)
for _, k in ipairs({key, historyKey(id), phasesKey(id)}) do redis.call('PERSIST', k) end
local idem = redis.call('HGET', key, 'idempotencyKey')
if idem then redis.call('PERSIST', idemKey(idem)) end
redis.call('ZADD', dueKey, now, id)
redis.call('ZREM', deadKey, id)
redis.call('ZREM', discardedKey, id)
redis.call('DEL', deadRecordKey(id))
return reply({outcome = 'REDRIVEN', state = 'QUEUED', attempt = attempt})
