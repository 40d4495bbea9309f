-- Cancels a job: CANCEL takes any state that is not terminal to CANCELLED, at once. Its outbox
-- entry goes (a work message already published is refused at claim: the job is not QUEUED), and
-- so do its lease and timeout deadline when it runs: the running attempt's renewals and reports
-- are refused from here on, its outcome included, so cancel and completion race to one terminal
-- state. The job keeps who cancelled it and when; its history line carries the reason.
-- KEYS: [1] the partition's key base
-- ARGV: id, now, by, reason, retentionMs
-- Replies: MISSING | FINISHED (state: the terminal state it has) | CANCELLED (state: the one it
--   left; worker and token of the attempt it ran, when it ran one), with type and attempt.
local id, now, by, reason, retentionMs = ARGV[1], tonumber(ARGV[2]), ARGV[3], ARGV[4], ARGV[5]
local key = jobKey(id)
local job = redis.call('HMGET', key, 'state', 'worker', 'token', 'type', 'attempt')
local from = job[1]
if not from then return reply({outcome = 'MISSING'}) end
if not allows(from, 'CANCEL') then
  return reply({outcome = 'FINISHED', state = from, type = job[4]})
end
local why = 'cancelled by ' .. by
if reason ~= '' then why = why .. ': ' .. reason end
redis.call('ZREM', dueKey, id)
releaseLease(id)
transition(id, 'CANCEL', now, why)
redis.call('HSET', key, 'cancelledBy', by, 'cancelledAt', int(now), 'finishedAt', int(now))
redis.call('HDEL', key, 'releasedAttempt', 'leaseExpiredAt')
retain(id, retentionMs)
local out = {outcome = 'CANCELLED', state = from, type = job[4], attempt = tonumber(job[5])}
if running(from) then
  out.worker = job[2]
  out.token = job[3]
end
return reply(out)
