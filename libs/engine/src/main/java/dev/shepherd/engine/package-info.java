/**
 * The logic of the scheduler, status-tracker and recovery services, kept here so it is unit- and
 * integration-tested without Spring: {@code intake} turns submissions into jobs, {@code dispatch}
 * drains the outbox into the work exchange, {@code status} applies workers' events, {@code
 * recovery} takes back expired leases and records dead letters. The services only wire these to
 * HTTP, AMQP listeners and timers.
 */
package dev.shepherd.engine;
