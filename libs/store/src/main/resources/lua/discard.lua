-- Discards a dead-job record: it leaves the dead index for the discarded one, keeping who and
-- when, so nothing disappears without a trace until the dead-job retention, counted from the
-- discard, expires it (trim_indexes.lua drops its index entry then).
-- ARGV: recordId, by, now
local id, by, now = ARGV[1], ARGV[2], tonumber(ARGV[3])
local json = redis.call('GET', deadRecordKey(id))
if not json then return reply({outcome = 'MISSING'}) end
local record = cjson.decode(json)
record.discardedBy = by
record.discardedAt = int(now)
if DEAD_RETENTION_MS > 0 then
  redis.call('SET', deadRecordKey(id), cjson.encode(record), 'PX', DEAD_RETENTION_MS)
else
  redis.call('SET', deadRecordKey(id), cjson.encode(record))
end
redis.call('ZREM', deadKey, id)
redis.call('ZADD', discardedKey, now, id)
return reply({outcome = 'DISCARDED'})
