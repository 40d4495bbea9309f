-- Called after the broker confirmed the work messages: the entries leave the outbox and the jobs
-- become QUEUED (a worker may already have claimed one; then the table refuses the DISPATCH, and
-- the claim took the entry out already). Only an entry of the same attempt is marked.
-- KEYS: [1] the partition's key base
-- ARGV: now, then pairs of (id, attempt)
-- Replies: {marked = n, leaseExpiredAt = [epoch ms, ...]}: how many were marked, and when the
--   lease of each one's previous attempt expired, for those the reaper re-dispatched.
local now = tonumber(ARGV[1])
local done = 0
local expired = {}
for i = 2, #ARGV, 2 do
  local id, attempt = ARGV[i], ARGV[i + 1]
  local job = readJob(id, {'leaseExpiredAt'})
  if job.attempt == attempt then
    -- a claimed attempt (the usual case: its work message overtook this confirm) left the outbox
    -- with its claim, and its job is past QUEUED
    if not running(job.state) then
      redis.call('ZREM', dueKey, id)
      transition(id, 'DISPATCH', now, nil, nil, job)
    end
    if job.leaseExpiredAt then
      redis.call('HDEL', jobKey(id), 'leaseExpiredAt')
      expired[#expired + 1] = job.leaseExpiredAt
    end
    done = done + 1
  end
end
return reply({marked = done, leaseExpiredAt = expired})
