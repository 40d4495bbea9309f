-- Stores a dead-job record for input that never became a job (malformed, unknown type, ...).
-- ARGV: recordId, recordJson, now
redis.call('SET', deadRecordKey(ARGV[1]), ARGV[2])
redis.call('ZADD', deadKey, tonumber(ARGV[3]), ARGV[1])
return reply({outcome = 'RECORDED'})
