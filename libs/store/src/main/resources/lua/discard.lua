-- Discards a dead-job record: it leaves the dead index for the discarded one, keeping who and
-- when, so nothing disappears without a trace until the dead-job retention, counted from the
-- discard, expires it (trim_indexes.lua drops its index entry then). A DEAD job that blocked its
-- ordering key leaves it, the key's next job goes, and the job gets its retention (ADR 29).
-- KEYS: [1] the partition's key base
-- ARGV: recordId, by, now
-- Replies: DISCARDED | MISSING (no such record).
local id, by, now = ARGV[1], ARGV[2], tonumber(ARGV[3])
local json = redis.call('GET', deadRecordKey(id))
if not json then return reply({outcome = 'MISSING'}) end
local record = cjson.decode(json)
record.discardedBy = by
record.discardedAt = int(now)
writeDeadRecord(id, cjson.encode(record))
redis.call('ZREM', deadKey, id)
redis.call('ZADD', discardedKey, now, id)
local jobId = record.jobId or id
local okey = redis.call('HGET', jobKey(jobId), 'orderingKey')
if okey and keyHead(okey) == jobId then
  leaveKey(jobId, okey, now)
  retain(jobId, '0')
end
return reply({outcome = 'DISCARDED'})
