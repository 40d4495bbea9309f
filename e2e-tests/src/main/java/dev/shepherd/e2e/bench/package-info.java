/**
 * {@code make bench}: Shepherd's throughput, latency, backlog, rogue-worker recovery and cost per
 * job, measured against the raw broker's limit in the same run; and where each job's cost goes: CPU
 * per stage of the job's path in every process ({@link dev.shepherd.e2e.bench.Stages}, from
 * async-profiler attached for the steady window), JIT, GC and start-up apart, allocations, and
 * Redis calls per script and commands per name.
 */
package dev.shepherd.e2e.bench;
