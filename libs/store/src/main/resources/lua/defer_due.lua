-- Gives back outbox entries this dispatcher reserved but could not publish (the broker refused,
-- was unreachable or did not confirm): they are due again after `delayMs` instead of when their
-- reservation runs out, so a broker that comes back gets the backlog within the delay. Entries
-- already marked dispatched are no longer in the outbox and are left alone.
-- KEYS: [1] the partition's key base
-- ARGV: now, delayMs, id...
-- Replies: {deferred = n}, the entries still in the outbox that were deferred.
local now, delay = tonumber(ARGV[1]), tonumber(ARGV[2])
local deferred = 0
for i = 3, #ARGV do
  deferred = deferred + redis.call('ZADD', dueKey, 'XX', 'CH', now + delay, ARGV[i])
end
return reply({deferred = deferred})
