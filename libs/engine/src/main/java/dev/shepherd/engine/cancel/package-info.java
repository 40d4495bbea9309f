/**
 * Cancellation: one path from a REST call, a client call or an AMQP cancel request to a CANCELLED
 * job, and an order to the worker that runs it.
 */
package dev.shepherd.engine.cancel;
