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
local submittedAt
for i = 1, #all, 2 do
  if all[i] == 'submittedAt' then submittedAt = all[i + 1] end
  if all[i] == 'history' then
    for line in string.gmatch(all[i + 1], '[^\n]+') do history[#history + 1] = line end
  else
    fields[#fields + 1] = all[i]
    fields[#fields + 1] = all[i + 1]
  end
end
-- a job's first line, SUBMIT at its submittedAt, is stored by no script since ADR 51: written here
-- unless the job was stored with it (before ADR 51, or in its hash under ADR 23)
local first = history[1] and cjson.decode(history[1])
if not (first and first.event == 'SUBMIT') then
  table.insert(history, 1, cjson.encode({at = submittedAt, to = 'SUBMITTED', event = 'SUBMIT',
                                         attempt = 1}))
end
return reply({found = true, job = fields, history = history,
              phases = redis.call('HGETALL', phasesKey(id))})
