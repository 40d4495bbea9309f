-- Records where an attempt runs once a distributor started its task (ADR 45): the distributor, the
-- task's token, an info URL for a person and the settings it started with, kept in the job's
-- `tasks` field, a JSON list with one entry per attempt (a run retried for the same attempt
-- replaces its entry), for the job view. The field lives and expires with the job hash and no
-- claim clears it: it is the attempts' record.
-- Only the attempt holding the token may write it.
-- KEYS: [1] the partition's key base
-- ARGV: id, token, distributor, task, infoUrl ('' for none), settings (the distributor settings the
--       attempt started with, its configuration snapshot, as a JSON object; '' for none)
-- Replies: RECORDED | STALE, with the job's state (MISSING for no job)
local id, token = ARGV[1], ARGV[2]
local attempt = attemptOf(id)
if not holds(attempt, token) then
  return reply({outcome = 'STALE', state = attempt.state or 'MISSING'})
end
local key = jobKey(id)
local tasks = {}
for _, t in ipairs(cjson.decode(redis.call('HGET', key, 'tasks') or '[]')) do
  if t.attempt ~= attempt.attempt then tasks[#tasks + 1] = t end
end
local entry = {attempt = attempt.attempt, distributor = ARGV[3], task = ARGV[4]}
if ARGV[5] ~= '' then entry.infoUrl = ARGV[5] end
if ARGV[6] ~= nil and ARGV[6] ~= '' then entry.settings = cjson.decode(ARGV[6]) end
tasks[#tasks + 1] = entry
redis.call('HSET', key, 'tasks', cjson.encode(tasks))
return reply({outcome = 'RECORDED', state = attempt.state})
