/**
 * The recovery service: the lease reaper on a timer and the consumer of the dead-letter queue.
 * Wiring only; the logic is in {@code libs/engine}.
 */
package dev.shepherd.recovery;
