-- Counts the jobs of the partition that finished in each of the last `minutes` minutes, per
-- terminal state. A job sits in its state's index scored by when it got there (transitions() in
-- the prelude), so one ZCOUNT per minute and state answers without reading a job. A job redriven
-- since has left its terminal index and is not counted; neither is one the retention trimmed.
-- KEYS: [1] the partition's key base
-- ARGV: now, minutes, state... (terminal states)
-- Replies: {counts = {<state> = [n, ...]}}: `minutes` numbers per state, the oldest minute first;
--   minute i covers (now - (minutes - i + 1) min, now - (minutes - i) min].
local now, minutes = tonumber(ARGV[1]), tonumber(ARGV[2])
local counts = {}
for i = 3, #ARGV do
  local key = stateKey(ARGV[i])
  local per = {}
  for m = minutes, 1, -1 do
    per[#per + 1] = redis.call('ZCOUNT', key, '(' .. int(now - m * 60000),
                               int(now - (m - 1) * 60000))
  end
  counts[ARGV[i]] = per
end
return reply({counts = counts})
