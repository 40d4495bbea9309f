/**
 * Submission intake: one path from raw bytes (REST body or AMQP message) to a stored job or a
 * rejection that names the field and the rule, so both transports reject the same inputs the same
 * way.
 */
package dev.shepherd.engine.intake;
