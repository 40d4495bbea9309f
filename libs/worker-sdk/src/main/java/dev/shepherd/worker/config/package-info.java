/**
 * Spring wiring of the worker runtime for a Spring Boot worker application: the {@code
 * shepherd.worker.*} properties and a configuration that builds the runtime from every {@code
 * JobHandler} bean, starts it once the application is ready and drains it on shutdown; and the
 * {@code shepherd.distribution.*} properties, which make job types run on a backend (ADR 45), each
 * checked at start-up and turned into a {@code DistributedHandler}.
 */
package dev.shepherd.worker.config;
