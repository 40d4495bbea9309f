/**
 * The Redis side of Shepherd. Every change of a job's state is one Lua script in {@code
 * src/main/resources/lua/}, called through {@link dev.shepherd.store.JobStore}; the scripts obey
 * the transition table of {@link dev.shepherd.model.Transitions}, which the store renders into each
 * of them. Keys are split into partitions that each share one hash tag, so every script stays
 * inside one Redis Cluster slot.
 */
package dev.shepherd.store;
