/** Spring wiring of the worker runtime for a Spring Boot worker application. */
package dev.shepherd.worker.config;
