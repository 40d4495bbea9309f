/**
 * The scheduler service: REST and AMQP intake of submissions, the outbox dispatcher, and the read
 * API for jobs and dead jobs. Wiring only; the logic is in {@code libs/engine} and {@code
 * libs/store}.
 */
package dev.shepherd.scheduler;
