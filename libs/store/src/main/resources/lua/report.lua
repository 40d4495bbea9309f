-- Applies one status event of the attempt holding the current fencing token. Stale tokens are
-- refused; duplicates and late arrivals (sequence not above the last applied) change nothing.
-- ARGV: id, token, sequence, event, atMs, phase, percent, message, error, retryable, now,
--       backoffMs, retentionMs
local id, token, seq, event = ARGV[1], ARGV[2], tonumber(ARGV[3]), ARGV[4]
local at, phase, percent, message = ARGV[5], ARGV[6], ARGV[7], ARGV[8]
local error, retryable, now = ARGV[9], ARGV[10] == 'true', tonumber(ARGV[11])
local backoffMs, retentionMs = ARGV[12], ARGV[13]
local key = jobKey(id)
local job = redis.call('HMGET', key, 'state', 'token', 'seq', 'attempt')
if not job[1] then return reply({outcome = 'MISSING'}) end
if job[2] ~= token then return reply({outcome = 'STALE', state = job[1]}) end
if job[1] ~= 'RUNNING' then return reply({outcome = 'FINISHED', state = job[1]}) end
if seq <= tonumber(job[3]) then return reply({outcome = 'DUPLICATE', state = job[1]}) end
redis.call('HSET', key, 'seq', seq)
local attempt = job[4]

if event == 'PHASE_STARTED' then
  redis.call('HSETNX', phasesKey(id), attempt .. '|' .. phase .. '|start', at)
elseif event == 'PHASE_ENDED' then
  redis.call('HSETNX', phasesKey(id), attempt .. '|' .. phase .. '|end', at)
elseif event == 'PROGRESS' then
  redis.call('HSET', key, 'progress', percent, 'progressMessage', message)
elseif event == 'SUCCEEDED' then
  releaseLease(id)
  transition(id, 'SUCCEED', now, nil)
  redis.call('HSET', key, 'finishedAt', at)
  retain(id, retentionMs)
elseif event == 'FAILED' then
  if retryable then
    return reply({outcome = 'APPLIED', state = retryOrDie(id, 'FAIL_RETRYABLE', error, now, backoffMs, retentionMs)})
  end
  releaseLease(id)
  redis.call('HSET', key, 'lastError', error, 'finishedAt', at)
  transition(id, 'FAIL_PERMANENT', now, error)
  recordDeadJob(id, 'permanent failure: ' .. error, now, retentionMs)
  retain(id, retentionMs)
else
  return redis.error_reply('unknown status event ' .. event)
end
return reply({outcome = 'APPLIED', state = redis.call('HGET', key, 'state')})
