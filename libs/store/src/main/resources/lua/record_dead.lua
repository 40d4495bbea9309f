-- Stores a dead-job record for input that never became a job (malformed, unknown type, ...). It
-- expires after the dead-job retention, as every dead-job record does.
-- KEYS: [1] the partition's key base
-- ARGV: recordId, recordJson, now
-- Replies: RECORDED.
storeDeadRecord(ARGV[1], ARGV[2], tonumber(ARGV[3]))
return reply({outcome = 'RECORDED'})
