/**
 * Spring wiring of the worker runtime for a Spring Boot worker application: the {@code
 * shepherd.worker.*} properties and a configuration that builds the runtime from every {@code
 * JobHandler} bean, starts it once the application is ready and drains it on shutdown.
 */
package dev.shepherd.worker.config;
