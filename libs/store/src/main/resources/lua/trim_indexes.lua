-- Trims one index of the partition by one batch, so that what Shepherd writes to Redis stays
-- bounded even when no listing ever reaches old entries (DESIGN.md invariant 8). Two modes:
--   'score'  the score is when the member's retention began (entering a terminal state, being
--            recorded dead, being discarded), so members scored before `cutoff` point at keys
--            that expired: they go, and with `records` = 'true' their dead-job record too (records
--            written before records expired by themselves). A DEAD job that still blocks its
--            ordering key (ADR 29, `block` policy) is kept, and the next batch starts after it.
--   'exists' members scored before `cutoff` whose job hash is gone go; live ones stay, and the
--            next batch starts after them (`next`). A job can only be gone `retention` after any
--            of its changes, so newer members are not looked at.
-- KEYS: [1] the partition's key base
-- ARGV: index (the key after the partition's base), mode, cutoffMs, offset, limit, records
-- Replies: {removed = n, next = offset of the next batch, more = true when the batch was full}; a
--   Redis error for an unknown mode.
local index, mode, cutoff = partitionKey(ARGV[1]), ARGV[2], ARGV[3]
local offset, limit, records = tonumber(ARGV[4]), tonumber(ARGV[5]), ARGV[6] == 'true'
local removed = 0
local ids
if mode == 'score' then
  -- a DEAD job that blocks its ordering key stays listed (and its record kept) past any retention
  ids = redis.call('ZRANGEBYSCORE', index, '-inf', '(' .. cutoff, 'LIMIT', offset, limit)
  for _, id in ipairs(ids) do
    if blocksItsKey(id) then
      offset = offset + 1
    else
      redis.call('ZREM', index, id)
      if records then redis.call('DEL', deadRecordKey(id)) end
      removed = removed + 1
    end
  end
elseif mode == 'exists' then
  ids = redis.call('ZRANGEBYSCORE', index, '-inf', '(' .. cutoff, 'LIMIT', offset, limit)
  for _, id in ipairs(ids) do
    if redis.call('EXISTS', jobKey(id)) == 0 then
      redis.call('ZREM', index, id)
      removed = removed + 1
    else
      offset = offset + 1
    end
  end
else
  return redis.error_reply('unknown trim mode ' .. mode)
end
return reply({removed = removed, next = offset, more = #ids == limit})
