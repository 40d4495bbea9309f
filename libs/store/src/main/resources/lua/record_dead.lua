-- Stores a dead-job record for input that never became a job (malformed, unknown type, ...). It
-- expires after the dead-job retention, as every dead-job record does.
-- ARGV: recordId, recordJson, now
storeDeadRecord(ARGV[1], ARGV[2], tonumber(ARGV[3]))
return reply({outcome = 'RECORDED'})
