-- Reads a job, its history and its phases in one consistent call.
-- KEYS: [1] the partition's key base
-- ARGV: id
-- Replies: {found = false} | {found = true, job = [field, value, ...] (without the history),
--   history = [JSON line, ...], phases = [field, value, ...]}.
local id = ARGV[1]
local all = redis.call('HGETALL', jobKey(id))
if #all == 0 then return reply({found = false}) end
-- the history: a list, one JSON line per transition (historyKey, ADR 28); a job stored while it was
-- the job hash's `history` field (ADR 23) has it there
local fields, history = {}, redis.call('LRANGE', historyKey(id), 0, -1)
for i = 1, #all, 2 do
  if all[i] == 'history' then
    for line in string.gmatch(all[i + 1], '[^\n]+') do history[#history + 1] = line end
  else
    fields[#fields + 1] = all[i]
    fields[#fields + 1] = all[i + 1]
  end
end
return reply({found = true, job = fields, history = history,
              phases = redis.call('HGETALL', phasesKey(id))})
