-- Start-up and periodic recovery: jobs QUEUED in a pool for longer than their schedule-to-start
-- timeout (the work message was lost, or never confirmed) go back into the outbox to be published
-- again. Their wait restarts, so a second recovery instance running the same pass finds nothing
-- to do: each job is requeued once per timeout.
-- ARGV: pool, cutoffMs, limit, now
local pool, cutoff, limit, now = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local queued = base .. 'queued:' .. pool
local ids = redis.call('ZRANGEBYSCORE', queued, '-inf', cutoff, 'LIMIT', 0, limit)
local out = {}
for _, id in ipairs(ids) do
  if redis.call('HGET', jobKey(id), 'state') == 'QUEUED' then
    redis.call('ZADD', queued, now, id)
    if not redis.call('ZSCORE', dueKey, id) then
      redis.call('ZADD', dueKey, now, id)
      out[#out + 1] = id
    end
  else
    redis.call('ZREM', queued, id)
  end
end
return reply({requeued = out})
