-- What the console's overview shows of one partition, in one call: how many jobs each state's
-- index holds, each pool's queued jobs and the one that has waited longest, and the jobs that
-- finished in each of the last `minutes` minutes per terminal state. A job sits in its state's
-- index scored by when it got there (transitions() in the prelude), so one ZCOUNT per minute and
-- state answers without reading a job. A job redriven since has left its terminal index and is not
-- counted; neither is one the retention trimmed. RUNNING jobs are counted by their leases, QUEUED
-- jobs by the pools' `queued` indexes (ARGV names every known pool, ADR 51).
-- KEYS: [1] the partition's key base
-- ARGV: now, minutes, pool count, pool..., state count, state... (counted), state... (terminal)
-- Replies: {counts = {<state> = n}, pools = {<pool> = {depth = n, oldest = id, at = ms}},
--   finished = {<state> = [n, ...]}}: `minutes` numbers per terminal state, the oldest minute
--   first; minute i covers (now - (minutes - i + 1) min, now - (minutes - i) min].
local now, minutes = tonumber(ARGV[1]), tonumber(ARGV[2])
local i = 3
local pools = {}
local queued = 0 -- the QUEUED jobs: those of the pools' `queued` indexes (ADR 51)
for _ = 1, tonumber(ARGV[i]) do
  i = i + 1
  local key = queuedKey(ARGV[i])
  local first = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
  pools[ARGV[i]] = {depth = redis.call('ZCARD', key), oldest = first[1], at = first[2]}
  queued = queued + pools[ARGV[i]].depth
end
i = i + 1
local counts = {}
for _ = 1, tonumber(ARGV[i]) do
  i = i + 1
  local state = ARGV[i]
  if published(state) then
    counts[state] = queued
  else
    counts[state] = redis.call('ZCARD', running(state) and leasesKey or stateKey(state))
  end
end
local finished = {}
for j = i + 1, #ARGV do
  local key = stateKey(ARGV[j])
  local per = {}
  for m = minutes, 1, -1 do
    per[#per + 1] = redis.call('ZCOUNT', key, '(' .. int(now - m * 60000),
                               int(now - (m - 1) * 60000))
  end
  finished[ARGV[j]] = per
end
return reply({counts = counts, pools = pools, finished = finished})
