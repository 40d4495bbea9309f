-- Start-up and periodic recovery: jobs QUEUED in a pool for longer than their schedule-to-start
-- timeout (the work message was lost, or never confirmed) go back into the outbox to be published
-- again. Their wait for the next requeue restarts (index `requeued`), so a second recovery
-- instance running the same pass finds nothing to do: each job is requeued once per timeout. The
-- `queued` index keeps when the job began to wait, so the backlog's age stays true.
-- KEYS: [1] the partition's key base
-- ARGV: pool, cutoffMs, limit, now
-- Replies: {requeued = [id, ...]}, the jobs put back into the outbox.
local pool, cutoff, limit, now = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local requeued = requeuedKey(pool)
local ids = redis.call('ZRANGEBYSCORE', requeued, '-inf', cutoff, 'LIMIT', 0, limit)
local out = {}
for _, id in ipairs(ids) do
  if published(redis.call('HGET', jobKey(id), 'state')) then
    redis.call('ZADD', requeued, now, id)
    if not redis.call('ZSCORE', dueKey, id) then
      redis.call('ZADD', dueKey, now, id)
      out[#out + 1] = id
    end
  else
    redis.call('ZREM', requeued, id)
    redis.call('ZREM', queuedKey(pool), id)
  end
end
return reply({requeued = out})
