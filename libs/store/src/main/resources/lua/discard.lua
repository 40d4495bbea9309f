-- Discards a dead-job record: it leaves the dead index for the discarded one, keeping who and
-- when, so nothing disappears without a trace.
-- ARGV: recordId, by, now
local id, by, now = ARGV[1], ARGV[2], tonumber(ARGV[3])
local json = redis.call('GET', deadRecordKey(id))
if not json then return reply({outcome = 'MISSING'}) end
local record = cjson.decode(json)
record.discardedBy = by
record.discardedAt = int(now)
redis.call('SET', deadRecordKey(id), cjson.encode(record))
redis.call('ZREM', deadKey, id)
redis.call('ZADD', base .. 'discarded', now, id)
return reply({outcome = 'DISCARDED'})
