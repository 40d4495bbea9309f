-- Reads a job, its history and its phases in one consistent call.
-- KEYS: [1] the partition's key base
-- ARGV: id
-- Replies: {found = false} | {found = true, job = [field, value, ...], history = [JSON line, ...],
--   phases = [field, value, ...]}.
local id = ARGV[1]
local fields = redis.call('HGETALL', jobKey(id))
if #fields == 0 then return reply({found = false}) end
return reply({found = true, job = fields, history = redis.call('LRANGE', historyKey(id), 0, -1),
              phases = redis.call('HGETALL', phasesKey(id))})
