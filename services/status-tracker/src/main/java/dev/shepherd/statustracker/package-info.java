/**
 * The status-tracker service: one consumer of the status queue that applies every worker event
 * through the store's fenced scripts. Wiring only; the logic is in {@code libs/engine}.
 */
package dev.shepherd.statustracker;
