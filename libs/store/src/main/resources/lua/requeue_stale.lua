-- Start-up and periodic recovery: jobs QUEUED in a pool for longer than their schedule-to-start
-- timeout (the work message was lost, or never confirmed) go back into the outbox to be published
-- again. A job's wait counts from when it was queued (index `queued`, which keeps that time, so the
-- backlog's age stays true) or from when this pass last published it again (index `requeued`,
-- written only then: a job that is claimed in time costs no command here, ADR 50), whichever is
-- later; so a second recovery instance running the same pass finds nothing to do, and each job is
-- published again at most once per timeout. Jobs never published again come first, the longest
-- waiting first, then those published again longest ago. An entry of `requeued` whose job was
-- queued again since (a retry) or is no longer QUEUED is dropped when met.
-- KEYS: [1] the partition's key base
-- ARGV: pool, cutoffMs, limit, now
-- Replies: {requeued = [id, ...]}, the jobs put back into the outbox.
local pool, cutoff, limit, now = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local queued, requeued = queuedKey(pool), requeuedKey(pool)
local out = {}

local function publishAgain(id)
  redis.call('ZADD', requeued, now, id)
  if not redis.call('ZSCORE', dueKey, id) then
    redis.call('ZADD', dueKey, now, id)
    out[#out + 1] = id
  end
end

-- Jobs never published again: waiting since they were queued. The first pages can name jobs
-- published again lately (still waiting, their new message in the queue); they are skipped, and
-- the pass reads at most a few pages.
local offset, pages, page = 0, 0, math.max(limit, 100)
while #out < limit and pages < 10 do
  local ids = redis.call('ZRANGEBYSCORE', queued, '-inf', cutoff, 'LIMIT', offset, page)
  if #ids == 0 then break end
  local removed = 0
  for _, id in ipairs(ids) do
    if #out >= limit then break end
    if not redis.call('ZSCORE', requeued, id) then
      if published(redis.call('HGET', jobKey(id), 'state')) then
        publishAgain(id)
      else
        redis.call('ZREM', queued, id) -- no longer waiting: the entry outlived its job's wait
        removed = removed + 1
      end
    end
  end
  offset, pages = offset + #ids - removed, pages + 1
end

-- Jobs published again longest ago.
if #out < limit then
  local entries = redis.call('ZRANGEBYSCORE', requeued, '-inf', cutoff, 'WITHSCORES', 'LIMIT', 0,
                            limit)
  for e = 1, #entries, 2 do
    if #out >= limit then break end
    local id, republishedAt = entries[e], tonumber(entries[e + 1])
    local since = tonumber(redis.call('ZSCORE', queued, id) or '0')
    if not published(redis.call('HGET', jobKey(id), 'state')) then
      redis.call('ZREM', requeued, id)
      redis.call('ZREM', queued, id)
    elseif since > republishedAt then
      -- queued again since that publish (a retry): its wait counts from then, as a job never
      -- published again
      redis.call('ZREM', requeued, id)
      if since <= cutoff then publishAgain(id) end
    else
      publishAgain(id)
    end
  end
end
return reply({requeued = out})
