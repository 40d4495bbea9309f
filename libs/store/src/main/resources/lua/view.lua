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
local fields, stored = {}, redis.call('LRANGE', historyKey(id), 0, -1)
local h = {}
for i = 1, #all, 2 do
  h[all[i]] = all[i + 1]
  if all[i] == 'history' then
    for line in string.gmatch(all[i + 1], '[^\n]+') do stored[#stored + 1] = line end
  else
    fields[#fields + 1] = all[i]
    fields[#fields + 1] = all[i + 1]
  end
end
-- Since ADR 51 no script stores a job's first line (SUBMIT at `submittedAt`), nor the line of its
-- dispatch straight from SUBMITTED (`dispatchedIn`, transitions()): both are written here, first;
-- a job stored with its SUBMIT line (before ADR 51, or in its hash under ADR 23) keeps that one.
local history = {}
local first = stored[1] and cjson.decode(stored[1])
local from = 1
if first and first.event == 'SUBMIT' then
  history[1] = stored[1]
  from = 2
else
  history[1] = cjson.encode({at = h.submittedAt, to = 'SUBMITTED', event = 'SUBMIT', attempt = 1})
end
-- `dispatchedIn`: milliseconds after `submittedAt` (ADR 54); `dispatchedAt`, the time itself, in
-- a job stored before
local dispatchedAt = h.dispatchedAt
if not dispatchedAt and h.dispatchedIn and h.submittedAt then
  dispatchedAt = int(tonumber(h.submittedAt) + tonumber(h.dispatchedIn))
end
if dispatchedAt then
  history[#history + 1] = cjson.encode({at = dispatchedAt, from = 'SUBMITTED', to = 'QUEUED',
                                        event = 'DISPATCH', attempt = 1})
end
-- the first claim's line and its success's, while the hash holds them (ADR 52: `held` 1 or 2; a
-- job whose hash holds a line has no stored line after it)
if h.held == '1' or h.held == '2' then
  history[#history + 1] = heldClaimLine(h.startedAt, 1, h.token, h.worker)
  if h.held == '2' then
    history[#history + 1] = heldSuccessLine(h.succeededAt, 1, h.token, h.worker)
  end
end
for i = from, #stored do history[#history + 1] = stored[i] end
return reply({found = true, job = fields, history = history,
              phases = redis.call('HGETALL', phasesKey(id))})
