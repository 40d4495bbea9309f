-- Called after the broker confirmed the work messages: the entries leave the outbox and the jobs
-- become QUEUED (a worker may already have claimed one; then only the entry goes).
-- ARGV: now, then pairs of (id, attempt)
local now = tonumber(ARGV[1])
local done = 0
local expired = {}
for i = 2, #ARGV, 2 do
  local id, attempt = ARGV[i], ARGV[i + 1]
  if redis.call('HGET', jobKey(id), 'attempt') == attempt then
    redis.call('ZREM', dueKey, id)
    local state = redis.call('HGET', jobKey(id), 'state')
    if state ~= 'QUEUED' then transition(id, 'DISPATCH', now, nil) end
    local leaseExpiredAt = redis.call('HGET', jobKey(id), 'leaseExpiredAt')
    if leaseExpiredAt then
      redis.call('HDEL', jobKey(id), 'leaseExpiredAt')
      expired[#expired + 1] = leaseExpiredAt
    end
    done = done + 1
  end
end
return reply({marked = done, leaseExpiredAt = expired})
