-- A client waits for the job's end: the job is marked `awaited`, so that transition() publishes
-- its id on the partition's `finished` channel when it finishes, and the job's state is answered,
-- so that a job finished already is answered at once. Marking before reading, in one call, leaves
-- no gap in which an end would be missed.
-- KEYS: [1] the partition's key base
-- ARGV: id
-- Replies: FOUND (state) | MISSING
local key = jobKey(ARGV[1])
local state = redis.call('HGET', key, 'state')
if not state then return reply({outcome = 'MISSING'}) end
if not finished(state) then redis.call('HSET', key, 'awaited', '1') end
return reply({outcome = 'FOUND', state = state})
