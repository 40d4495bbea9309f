/**
 * {@code make bench}: Shepherd's throughput, latency, backlog, rogue-worker recovery and cost per
 * job, measured against the raw broker's limit in the same run.
 */
package dev.shepherd.e2e.bench;
