/**
 * The Redis side of Shepherd. Every change of a job's state is one Lua script in {@code
 * src/main/resources/lua/}; the scripts obey the transition table of {@link
 * dev.shepherd.model.Transitions}, which the store renders into each of them. Callers get one small
 * type each, all built by {@link dev.shepherd.store.Store}: {@link dev.shepherd.store.Submissions}
 * (intake), {@link dev.shepherd.store.Outbox} (dispatch and stale-queued), {@link
 * dev.shepherd.store.Leases} (workers), {@link dev.shepherd.store.Reports} (status-tracker), {@link
 * dev.shepherd.store.Cancels}, {@link dev.shepherd.store.LeaseRecovery} (recovery passes), {@link
 * dev.shepherd.store.DeadJobs}, {@link dev.shepherd.store.Indexes} (index trim) and {@link
 * dev.shepherd.store.JobQueries} (reads and gauges). Underneath, {@link dev.shepherd.store.Keys}
 * builds every key name, a script runner calls the scripts and counts the calls, and one reply
 * mapper reads their JSON. Keys are split into partitions that each share one hash tag, so every
 * script stays inside one Redis Cluster slot.
 */
package dev.shepherd.store;
