-- Called after the broker confirmed the work messages: the entries leave the outbox and the jobs
-- become QUEUED (a worker may already have claimed one; then the table refuses the DISPATCH and
-- only the entry goes). Only an entry of the same attempt is marked.
-- KEYS: [1] the partition's key base
-- ARGV: now, then pairs of (id, attempt)
-- Replies: {marked = n, leaseExpiredAt = [epoch ms, ...]}: how many were marked, and when the
--   lease of each one's previous attempt expired, for those the reaper re-dispatched.
local now = tonumber(ARGV[1])
local done = 0
local expired = {}
for i = 2, #ARGV, 2 do
  local id, attempt = ARGV[i], ARGV[i + 1]
  if redis.call('HGET', jobKey(id), 'attempt') == attempt then
    redis.call('ZREM', dueKey, id)
    transition(id, 'DISPATCH', now, nil)
    local leaseExpiredAt = redis.call('HGET', jobKey(id), 'leaseExpiredAt')
    if leaseExpiredAt then
      redis.call('HDEL', jobKey(id), 'leaseExpiredAt')
      expired[#expired + 1] = leaseExpiredAt
    end
    done = done + 1
  end
end
return reply({marked = done, leaseExpiredAt = expired})
