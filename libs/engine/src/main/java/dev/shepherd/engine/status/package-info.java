/**
 * Applying workers' status events: each goes through the store's fenced script, so a report from an
 * attempt that lost its lease is refused and counted, and a duplicate changes nothing.
 */
package dev.shepherd.engine.status;
