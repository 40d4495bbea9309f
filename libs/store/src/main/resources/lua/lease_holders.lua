-- The leases held in one partition, with what the over-capacity pass and the workers endpoint
-- read of each: the job, its worker, when the attempt started, and whether the worker published
-- its outcome (`outcomeAt`). One call per partition instead of a read per lease.
-- KEYS: [1] the partition's key base
-- Replies: {leases = [{id, worker, startedAt, outcome}]} ([] for none)
local out = {}
for _, id in ipairs(redis.call('ZRANGE', leasesKey, 0, -1)) do
  local job = redis.call('HMGET', jobKey(id), 'worker', 'startedAt', 'outcomeAt')
  if job[1] then
    out[#out + 1] = {id = id, worker = job[1], startedAt = job[2] or nil,
                     outcome = job[3] and true or false}
  end
end
if #out == 0 then return '{"leases":[]}' end
return reply({leases = out})
