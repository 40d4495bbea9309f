-- Ends jobs waiting in the outbox that no worker pool takes any more: the scheduler knows no pool
-- for their type, or the broker returned their work message as unroutable. Publishing them again
-- every second would never end, so each goes DEAD (UNROUTABLE) with its reason and a dead-job
-- record; a redrive, once a pool takes the type again, gives it one more attempt.
-- Only an entry still in the outbox for the same attempt is ended (another dispatcher may have
-- published it meanwhile), and only while the job waits: a claimed job may keep an entry (ADR 51),
-- and the transition table allows UNROUTABLE only from the waiting states.
-- KEYS: [1] the partition's key base
-- ARGV: now, retentionMs, then triples of (id, attempt, reason)
-- Replies: {ended = [id, ...]}, the jobs that went DEAD.
local now, retentionMs = tonumber(ARGV[1]), ARGV[2]
local ended = {}
for i = 3, #ARGV, 3 do
  local id, attempt, reason = ARGV[i], ARGV[i + 1], ARGV[i + 2]
  if redis.call('HGET', jobKey(id), 'attempt') == attempt and redis.call('ZSCORE', dueKey, id)
      and endDead(id, 'UNROUTABLE', reason, reason, now, int(now), retentionMs, nil) then
    redis.call('ZREM', dueKey, id)
    ended[#ended + 1] = id
  end
end
return reply({ended = ended})
