/**
 * Shepherd's vocabulary as plain data: the records of every message and view that crosses a process
 * boundary, the {@link dev.shepherd.model.JobState job states} and the one {@link
 * dev.shepherd.model.Transitions transition table} that both Java and the Redis Lua scripts obey.
 * Nothing here talks to a network; nothing here depends on Spring.
 */
package dev.shepherd.model;
