-- Declares one attempt abandoned (its worker holds more than its capacity, or took new work
-- while this one never finished): the lease goes at once and the job is re-dispatched now, or
-- waits for its outcome when this was its last attempt (ADR 14). Only if that worker still holds it.
-- ARGV: id, workerId, reason, now, retentionMs, graceMs
local id, worker, reason, now, retentionMs = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4]), ARGV[5]
local graceMs = ARGV[6]
local job = redis.call('HMGET', jobKey(id), 'state', 'worker', 'attempt', 'type', 'pool')
if job[1] ~= 'RUNNING' or job[2] ~= worker then
  return reply({reaped = {}})
end
local state = retryOrDie(id, 'LEASE_EXPIRED', reason, now, 0, retentionMs, nil, graceMs)
return reply({reaped = {{id = id, worker = worker, attempt = tonumber(job[3]), state = state,
                         type = job[4], pool = job[5]}}})
