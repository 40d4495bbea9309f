/**
 * RabbitMQ as Shepherd uses it: the {@link dev.shepherd.messaging.Topology} names every exchange,
 * queue, routing key and queue argument in one place, and {@link
 * dev.shepherd.messaging.ConfirmingPublisher} publishes persistent messages and returns only once
 * the broker confirmed them. No service declares a queue or names an exchange by itself.
 */
package dev.shepherd.messaging;
