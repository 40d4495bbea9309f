/**
 * RabbitMQ as Shepherd uses it: the {@link dev.shepherd.messaging.Topology} names every exchange,
 * queue, routing key and queue argument in one place, and {@link
 * dev.shepherd.messaging.ConfirmingPublisher} publishes persistent messages and returns only once
 * the broker confirmed them. No service declares a queue or names an exchange by itself. {@link
 * dev.shepherd.messaging.Listeners} consume with explicit acks and tell an outage of Redis or the
 * broker ({@link dev.shepherd.messaging.FailureKind}), during which a consumer pauses with its
 * delivery ({@link dev.shepherd.messaging.InfrastructurePause}), from a bug, whose message goes
 * back to the queue towards its delivery limit.
 */
package dev.shepherd.messaging;
