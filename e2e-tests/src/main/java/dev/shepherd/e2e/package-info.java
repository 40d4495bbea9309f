/**
 * Runs Shepherd as production does, every service its own JVM: {@link dev.shepherd.e2e.Cluster}
 * starts the scheduler, status-tracker, recovery and a set of workers from their built jars, and
 * the end-to-end tests and the demo talk to it only through the client, REST and AMQP.
 */
package dev.shepherd.e2e;
